"""The checks engine: profiles, drift, keys, integrity, business rules, performance, query plans,
incremental inspection and recent changes, each returning `Finding`s; the triage playbook runs them
step by step and the report module writes the incident record. UI-free.
"""
