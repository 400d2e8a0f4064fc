"""dbt projects shaped like the ones users bring, for tests that pipeline-tui works on any project.

- `make_jaffle_project(root)`: jaffle-shop style. Seeds, staging views, and two final tables
  (`customers`, `orders`) at the root of models/; unique, not_null, relationships and
  accepted_values tests; profiles.yml inside the project with a relative `path: jaffle_shop.duckdb`.
- `make_medallion_project(root)`: staging/, dimensions/ and marts/ folders; the sources are tables
  that a loader script (`scripts/load_raw.py`, run from the project folder) writes into the DuckDB
  file; profiles.yml inside the project with a relative `path: data/medallion.duckdb`.
- `run_plain_dbt(project, *args)`: plain `dbt` as its team runs it (`cd project && dbt ...`), the
  reference that pipeline-tui's behaviour is compared with.

Data are synthetic and deterministic; row counts are constants of the raw inputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

JAFFLE_CUSTOMERS, JAFFLE_ORDERS, JAFFLE_PAYMENTS = 40, 120, 150
JAFFLE_STATUSES = ("placed", "shipped", "completed", "returned")
JAFFLE_METHODS = ("credit_card", "coupon", "bank_transfer", "gift_card")
MEDALLION_CUSTOMERS, MEDALLION_PRODUCTS, MEDALLION_SALES = 30, 12, 400

_PROFILE = """{name}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {path}
      threads: 2
      settings:
        enable_progress_bar: false
"""
_PROJECT = """name: {name}
version: '1.0'
config-version: 2
profile: {name}
flags:
  send_anonymous_usage_stats: false
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _jaffle_seeds() -> dict[str, str]:
    customers = ["id,first_name,last_name"] + [f"{i},F{i:03d},L{i % 26:02d}" for i in range(1, JAFFLE_CUSTOMERS + 1)]
    orders = ["id,user_id,order_date,status"] + [
        f"{i},{(i * 7) % JAFFLE_CUSTOMERS + 1},2024-01-{(i % 28) + 1:02d},{JAFFLE_STATUSES[i % len(JAFFLE_STATUSES)]}"
        for i in range(1, JAFFLE_ORDERS + 1)]
    payments = ["id,order_id,payment_method,amount"] + [
        f"{i},{(i - 1) % JAFFLE_ORDERS + 1},{JAFFLE_METHODS[i % len(JAFFLE_METHODS)]},{(i * 137) % 5000 + 100}"
        for i in range(1, JAFFLE_PAYMENTS + 1)]
    return {"seeds/raw_customers.csv": "\n".join(customers) + "\n", "seeds/raw_orders.csv": "\n".join(orders) + "\n",
            "seeds/raw_payments.csv": "\n".join(payments) + "\n"}


_JAFFLE_MODELS = {
    "models/staging/stg_customers.sql": "select id as customer_id, first_name, last_name from {{ ref('raw_customers') }}\n",
    "models/staging/stg_orders.sql": (
        "select id as order_id, user_id as customer_id, order_date, status from {{ ref('raw_orders') }}\n"),
    "models/staging/stg_payments.sql": (
        "select id as payment_id, order_id, payment_method, amount / 100.0 as amount\n"
        "from {{ ref('raw_payments') }}\n"),
    "models/staging/schema.yml": """version: 2
models:
  - name: stg_customers
    columns:
      - name: customer_id
        data_tests: [unique, not_null]
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: ['placed', 'shipped', 'completed', 'return_pending', 'returned']
  - name: stg_payments
    columns:
      - name: payment_id
        data_tests: [unique, not_null]
      - name: payment_method
        data_tests:
          - accepted_values:
              arguments:
                values: ['credit_card', 'coupon', 'bank_transfer', 'gift_card']
""",
    "models/customers.sql": """{{ config(materialized='table') }}
with customers as (select * from {{ ref('stg_customers') }}),
orders as (select * from {{ ref('stg_orders') }}),
payments as (select * from {{ ref('stg_payments') }}),
customer_orders as (
    select customer_id, min(order_date) as first_order, max(order_date) as most_recent_order,
           count(order_id) as number_of_orders
    from orders group by customer_id
),
customer_payments as (
    select orders.customer_id, sum(amount) as total_amount
    from payments join orders on payments.order_id = orders.order_id
    group by orders.customer_id
),
final as (
    select customers.customer_id, customers.first_name, customers.last_name,
           customer_orders.first_order, customer_orders.most_recent_order,
           coalesce(customer_orders.number_of_orders, 0) as number_of_orders,
           customer_payments.total_amount as customer_lifetime_value
    from customers
    left join customer_orders on customers.customer_id = customer_orders.customer_id
    left join customer_payments on customers.customer_id = customer_payments.customer_id
)
select * from final
""",
    "models/orders.sql": """{{ config(materialized='table') }}
with orders as (select * from {{ ref('stg_orders') }}),
payments as (select * from {{ ref('stg_payments') }}),
order_payments as (
    select order_id, sum(amount) as amount,
           sum(case when payment_method = 'credit_card' then amount else 0 end) as credit_card_amount,
           sum(case when payment_method = 'coupon' then amount else 0 end) as coupon_amount
    from payments group by order_id
),
final as (
    select orders.order_id, orders.customer_id, orders.order_date, orders.status,
           order_payments.credit_card_amount, order_payments.coupon_amount, order_payments.amount
    from orders left join order_payments on orders.order_id = order_payments.order_id
)
select * from final
""",
    "models/schema.yml": """version: 2
models:
  - name: customers
    description: One record per customer
    columns:
      - name: customer_id
        data_tests: [unique, not_null]
  - name: orders
    description: One record per order
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: customer_id
        data_tests:
          - not_null
          - relationships:
              arguments:
                to: ref('customers')
                field: customer_id
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: ['placed', 'shipped', 'completed', 'return_pending', 'returned']
""",
}


def make_jaffle_project(root: Path) -> Path:
    """A jaffle-shop style project in `root`; its warehouse is `root/jaffle_shop.duckdb` (relative path)."""
    files = {"dbt_project.yml": _PROJECT.format(name="jaffle_shop"),
             "profiles.yml": _PROFILE.format(name="jaffle_shop", path="jaffle_shop.duckdb"),
             **_jaffle_seeds(), **_JAFFLE_MODELS}
    return _write(root, files)


_LOADER = f'''"""Writes the raw tables the medallion project reads as sources (run it from the project folder)."""
import os

import duckdb

os.makedirs("data", exist_ok=True)
con = duckdb.connect("data/medallion.duckdb")
con.execute("create schema if not exists raw")
con.execute("""create or replace table raw.customers as
    select i as customer_id, 'C' || lpad(i::varchar, 4, '0') as customer_code,
           ['north', 'south', 'east', 'west'][i % 4 + 1] as region
    from range(1, {MEDALLION_CUSTOMERS + 1}) t(i)""")
con.execute("""create or replace table raw.products as
    select i as product_id, 'P' || i as product_name, ['food', 'tools', 'toys'][i % 3 + 1] as category,
           (i * 3 + 5)::decimal(10, 2) as list_price
    from range(1, {MEDALLION_PRODUCTS + 1}) t(i)""")
con.execute("""create or replace table raw.sales as
    select i as sale_id, (i * 7) % {MEDALLION_CUSTOMERS} + 1 as customer_id,
           (i * 5) % {MEDALLION_PRODUCTS} + 1 as product_id,
           date '2024-03-01' + (i % 30)::integer as sale_date, i % 4 + 1 as quantity
    from range(1, {MEDALLION_SALES + 1}) t(i)""")
con.close()
'''

_MEDALLION_MODELS = {
    "models/staging/_sources.yml": """version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: customers
      - name: products
      - name: sales
""",
    "models/staging/stg_customers.sql": "select customer_id, customer_code, region from {{ source('raw', 'customers') }}\n",
    "models/staging/stg_products.sql": (
        "select product_id, product_name, category, list_price from {{ source('raw', 'products') }}\n"),
    "models/staging/stg_sales.sql": (
        "select sale_id, customer_id, product_id, sale_date, quantity from {{ source('raw', 'sales') }}\n"),
    "models/dimensions/dim_customers.sql": (
        "{{ config(materialized='table') }}\n"
        "select customer_id as customer_key, customer_code, region from {{ ref('stg_customers') }}\n"),
    "models/dimensions/dim_products.sql": (
        "{{ config(materialized='table') }}\n"
        "select product_id as product_key, product_name, category, list_price from {{ ref('stg_products') }}\n"),
    "models/dimensions/dim_dates.sql": (
        "{{ config(materialized='table') }}\n"
        "select distinct strftime(sale_date, '%Y%m%d')::integer as date_id, sale_date as calendar_date\n"
        "from {{ ref('stg_sales') }}\n"),
    "models/marts/fct_sales.sql": """{{ config(materialized='table') }}
with sales as (select * from {{ ref('stg_sales') }}),
products as (select * from {{ ref('dim_products') }}),
final as (
    select sales.sale_id, sales.customer_id as customer_key, sales.product_id as product_key,
           strftime(sales.sale_date, '%Y%m%d')::integer as order_date_id, sales.quantity,
           sales.quantity * products.list_price as revenue
    from sales join products on sales.product_id = products.product_key
)
select * from final
""",
    "models/dimensions/_dimensions__models.yml": """version: 2
models:
  - name: dim_customers
    columns:
      - name: customer_key
        data_tests: [unique, not_null]
  - name: dim_products
    columns:
      - name: product_key
        data_tests: [unique, not_null]
      - name: category
        data_tests:
          - accepted_values:
              arguments:
                values: ['food', 'tools', 'toys']
  - name: dim_dates
    columns:
      - name: date_id
        data_tests: [unique, not_null]
""",
    "models/marts/_marts__models.yml": """version: 2
models:
  - name: fct_sales
    columns:
      - name: sale_id
        data_tests: [unique, not_null]
      - name: customer_key
        data_tests:
          - relationships:
              arguments:
                to: ref('dim_customers')
                field: customer_key
      - name: product_key
        data_tests:
          - relationships:
              arguments:
                to: ref('dim_products')
                field: product_key
""",
}


def make_medallion_project(root: Path, *, load: bool = True) -> Path:
    """A staging/dimensions/marts project in `root`; `load` runs its loader (as its team does, from
    the project folder), which writes the sources into `root/data/medallion.duckdb`."""
    files = {"dbt_project.yml": _PROJECT.format(name="medallion"),
             "profiles.yml": _PROFILE.format(name="medallion", path="data/medallion.duckdb"),
             "scripts/load_raw.py": _LOADER, **_MEDALLION_MODELS}
    _write(root, files)
    if load:
        load_medallion_raw(root)
    return root


def load_medallion_raw(project: Path) -> None:
    subprocess.run([sys.executable, "scripts/load_raw.py"], cwd=project, check=True, timeout=120)


def run_plain_dbt(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`cd project && dbt <args>` with tracking off: the behaviour pipeline-tui must match."""
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("DBT_PROFILES_DIR", None)
    return subprocess.run([str(dbt), *args], cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
