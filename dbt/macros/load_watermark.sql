{#- The load watermark of the incremental staging models: the file versions (name, size,
    modification time) a model has loaded, listed in dbt_audit.loaded_files (created with the audit
    table, see audit.sql). A run loads the versions not listed yet and lists them in a post-hook,
    inside the model's transaction; a full refresh clears the model's list first. -#}

{% macro record_loaded_files(files_sql) %}
    {#- `files_sql` yields source_file, file_size, file_modified_at, lines for the file versions this
        run loaded. -#}
    insert into dbt_audit.loaded_files
    select '{{ this.identifier }}', source_file, file_size, file_modified_at, lines, '{{ invocation_id }}',
           cast(now() at time zone 'UTC' as timestamp)
    from ({{ files_sql }}) as loaded
{% endmacro %}

{% macro lines_loaded_by_this_run() %}
    {#- For a model holding every line of its files (base_benefits__claims): the file versions whose
        lines this invocation wrote. -#}
    select source_file, any_value(file_size) as file_size, any_value(file_modified_at) as file_modified_at,
           count(*) as lines
    from {{ this }}
    where dbt_job_id = '{{ invocation_id }}'
    group by source_file
{% endmacro %}

{% macro delete_lines_of_files_to_load(pattern) %}
    {#- Pre-hook of a model holding every line of its files: a file delivered again under the same name
        (another size or modification time) is read again whole, so its old lines go first, and so does
        its old version from the model's list of loaded files (the list names what the model holds). -#}
    {%- if is_incremental() -%}
    {%- set files = feed_files(pattern, not_loaded_by=this.identifier) -%}
    {%- set names %}({% for file in files %}{{ sql_string(file.name) }}{{ ', ' if not loop.last }}{% else %}null{% endfor %}){% endset -%}
    delete from {{ this }} where source_file in {{ names }};
    delete from dbt_audit.loaded_files where model = '{{ this.identifier }}' and source_file in {{ names }}
    {%- endif -%}
{% endmacro %}

{% macro base_files_not_loaded(base, names_only=false) %}
    {#- The file versions `base` (a model with every line of its files, listing them here) holds that
        this model has not loaded yet: a query (source_file, file_size, file_modified_at, lines), or
        with `names_only` the list of file names, queried at run time. Read from the list, not from
        `base` itself, so no run scans every row of the base table for it. -#}
    {%- set query -%}
        select source_file, file_size, file_modified_at, lines
        from dbt_audit.loaded_files as b
        where b.model = '{{ base.identifier }}'
          and not exists (
            select 1 from dbt_audit.loaded_files as l
            where l.model = '{{ this.identifier }}' and l.source_file = b.source_file
              and l.file_size = b.file_size and l.file_modified_at = b.file_modified_at
        )
    {%- endset -%}
    {%- if not names_only -%}{{ return(query) }}{%- endif -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {{ return(run_query(query ~ ' order by source_file').columns[0].values() | list) }}
{% endmacro %}
