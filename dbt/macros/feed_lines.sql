{#- Raw feed files read line by line, exactly: one row per physical line of each file, numbered
    from 1 within its file, whatever the line holds.

    - Lines end at LF or CRLF (`new_line='\r\n'`): a CRLF line in an LF file is one line and does
      not shift the next line numbers. (DuckDB's CSV reader always breaks at a CR: a lone CR inside
      a line splits it in two.)
    - A line the reader cannot decode (invalid UTF-8, longer than DuckDB's max_line_size) would stop
      the whole read. `feed_line_errors` finds those lines first with the reader's store_rejects
      quarantine; the files that have some are then read with ignore_errors and their line numbers
      restored around the skipped lines (an ASOF join on the count of readable lines before each
      skipped one), and each skipped line comes back as its own row with a `read_error`.
    - Each file is its own read_csv ... with ordinality, so ordinality is the line number: no window
      over every raw line (the old `min(ordinality) over (partition by filename)` held them all in
      memory and was half of the claims parse).
    File lists come from `feed_files` at run time (name, size and modification time from read_blob,
    which does not read the content). -#}

{% macro feed_read_options() -%}
    columns={'line': 'VARCHAR'}, delim=chr(31), quote='', escape='', header=false, auto_detect=false,
    strict_mode=false, new_line='\r\n'
{%- endmacro %}

{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro feed_files(pattern, not_loaded_by=none) %}
    {#- [{path, name, size, modified}] for the files matching `pattern` (relative to the raw folder),
        by name; with `not_loaded_by`, only file versions that model has not loaded yet
        (dbt_audit.loaded_files). Empty outside execution (parse). -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set folder = pattern.rsplit('/', 1)[0] ~ '/' if '/' in pattern else '' -%}
    {%- set query -%}
        select {{ sql_string(folder) }} || parse_filename(filename) as path, parse_filename(filename) as name,
               size, strftime(last_modified::timestamp, '%Y-%m-%d %H:%M:%S.%f') as modified
        from read_blob({{ sql_string(pattern) }}) as f
        {% if not_loaded_by %}
        where not exists (
            select 1 from dbt_audit.loaded_files as l
            where l.model = {{ sql_string(not_loaded_by) }} and l.source_file = parse_filename(f.filename)
              and l.file_size = f.size and l.file_modified_at = f.last_modified::timestamp
        )
        {% endif %}
        order by name
    {%- endset -%}
    {%- set files = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do files.append({'path': row[0], 'name': row[1], 'size': row[2], 'modified': row[3]}) -%}
    {%- endfor -%}
    {{ return(files) }}
{% endmacro %}

{% macro feed_line_errors(files, label) %}
    {#- {file name: [(line, reason, text)]} for the lines of `files` the reader cannot decode, found by
        one quarantined read (store_rejects; the rejects tables are temporary, per connection). -#}
    {%- if not execute or files | length == 0 -%}{{ return({}) }}{%- endif -%}
    {%- set errors_table = 'feed_line_errors__' ~ label -%}
    {%- set scans_table = 'feed_line_scans__' ~ label -%}
    {%- do run_query('drop table if exists ' ~ errors_table ~ '; drop table if exists ' ~ scans_table) -%}
    {%- set paths = [] -%}
    {%- for file in files -%}{%- do paths.append(sql_string(file.path)) -%}{%- endfor -%}
    {%- do run_query('select count(*) from read_csv([' ~ paths | join(', ') ~ '], ' ~ feed_read_options()
                     ~ ", store_rejects=true, rejects_table='" ~ errors_table ~ "', rejects_scan='" ~ scans_table ~ "')") -%}
    {%- set found = run_query(
        "select parse_filename(s.file_path), e.line, e.error_type, e.csv_line from " ~ errors_table ~ " as e "
        ~ "join " ~ scans_table ~ " as s using (scan_id, file_id) order by 1, 2") -%}
    {%- set reasons = {'INVALID ENCODING': 'invalid_utf8', 'LINE SIZE': 'line_too_long'} -%}
    {%- set by_file = {} -%}
    {%- for row in found.rows -%}
        {%- do by_file.setdefault(row[0], []).append((row[1], reasons.get(row[2], 'unreadable_line'), row[3])) -%}
    {%- endfor -%}
    {%- do run_query('drop table if exists ' ~ errors_table ~ '; drop table if exists ' ~ scans_table) -%}
    {{ return(by_file) }}
{% endmacro %}

{% macro feed_lines(pattern, files, unreadable={}) %}
    {#- source_file, file_size, file_modified_at, source_line, line, read_error: every line of `files`
        (from feed_files); `unreadable` from feed_line_errors. With no file, an empty result that still
        names `pattern`, so a missing folder fails with DuckDB's "No files found" error. -#}
    {%- if files | length == 0 %}
    select null::varchar as source_file, null::bigint as file_size, null::timestamp as file_modified_at,
           null::bigint as source_line, line, null::varchar as read_error
    from read_csv({{ sql_string(pattern) }}, {{ feed_read_options() }})
    where false
    {%- endif %}
    {%- for file in files %}
    {%- set skipped = unreadable.get(file.name, []) %}
    select {{ sql_string(file.name) }} as source_file, {{ file.size }}::bigint as file_size,
           timestamp {{ sql_string(file.modified) }} as file_modified_at,
           ordinality{% if skipped %} + coalesce(skipped.lines_before, 0){% endif %} as source_line,
           line, null::varchar as read_error
    from read_csv({{ sql_string(file.path) }}, {{ feed_read_options() }}{% if skipped %}, ignore_errors=true{% endif %}) with ordinality
    {{ skipped_lines_join('ordinality', skipped) }}
    {%- for line, reason, text in skipped %}
    union all
    select {{ sql_string(file.name) }}, {{ file.size }}::bigint, timestamp {{ sql_string(file.modified) }},
           {{ line }}::bigint, {{ sql_string(text) }}, {{ sql_string(reason) }}
    {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}

{% macro skipped_lines_join(line_column, skipped) %}
    {#- An ASOF join giving `lines_before`, the number of `skipped` lines before a row read with
        ignore_errors whose ordinal is `line_column`: the readable lines before the i-th skipped line
        number L are L - i, and every later row moves down by i. Nothing when no line was skipped. -#}
    {%- if skipped %}
    {%- set shifts = {} %}
    {%- for line, reason, text in skipped %}{% do shifts.update({line - loop.index: loop.index}) %}{% endfor %}
    asof left join (values {% for before, count in shifts.items() %}({{ before }}, {{ count }}){{ ", " if not loop.last }}{% endfor %})
        as skipped (readable_before, lines_before)
        on {{ line_column }} > skipped.readable_before
    {%- endif %}
{% endmacro %}

{% macro renumbered_feed(relation, skipped) %}
    {#- The rows of a feed source read with ignore_errors (`_source_line` = the reader's ordinal) with
        their true line numbers, given the lines `skipped` (from feed_line_errors). -#}
    select source.*{% if skipped %} replace (source._source_line + coalesce(skipped.lines_before, 0) as _source_line){% endif %}
    from {{ relation }} as source
    {{ skipped_lines_join('source._source_line', skipped) }}
{% endmacro %}

{% macro unreadable_feed_lines(file_name, skipped) %}
    {#- source_file, source_line, raw_line, reject_reason of the lines `skipped` by the reader. -#}
    {%- for line, reason, text in skipped %}
    select {{ sql_string(file_name) }} as source_file, {{ line }}::bigint as source_line,
           {{ sql_string(text) }} as raw_line, {{ sql_string(reason) }} as reject_reason
    union all
    {%- endfor %}
    select null::varchar, null::bigint, null::varchar, null::varchar where false
{% endmacro %}
