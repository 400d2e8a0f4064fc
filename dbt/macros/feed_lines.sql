{#- Raw feed files read line by line, exactly: one row per physical line of each file, numbered
    from 1 within its file, whatever the line holds.

    - Each file is its own read_csv ... with ordinality, so ordinality is the line number: no window
      over every raw line (the old `min(ordinality) over (partition by filename)` held them all in
      memory and was half of the claims parse).
    - A line the reader cannot decode (invalid UTF-8, longer than DuckDB's max_line_size) would stop
      the whole read. `feed_line_errors` finds those lines first with one quarantined read
      (store_rejects); the files that have some are then read with ignore_errors, the lines after
      each skipped one get their true number back (an ASOF join on the count of readable lines
      before it) and each skipped line comes back as its own row with a `read_error`.
    - Line ends: DuckDB's reader ends a line at LF and also at CR, so a CRLF line reads as the line
      plus an empty one. Its `new_line='\r\n'` mode reads LF and CRLF lines right, but only single
      threaded (in parallel it fails or miscounts on large LF files). So the quarantined read also
      counts empty rows per file: a file with none holds no CRLF and is read in parallel; a file
      with some (blank lines or CRLF ends) is read (and checked again) with new_line='\r\n',
      parallel=false. Known limit: a lone CR inside a line (not before an LF) splits the line.
    File lists come from `feed_files` at run time (name, size and modification time from read_blob,
    which does not read the content). -#}

{% macro feed_read_options(crlf=false) -%}
    columns={'line': 'VARCHAR'}, delim=chr(31), quote='', escape='', header=false, auto_detect=false,
    strict_mode=false{% if crlf %}, new_line='\r\n', parallel=false{% endif %}
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
    {#- {'skipped': {file name: [(line, reason, text)]}, 'crlf': [file names]}: the lines of `files` the
        reader cannot decode, and the files to read in CRLF mode (they have empty rows when read
        with the default line ends: blank lines or CRLF ends). -#}
    {%- if not execute or files | length == 0 -%}{{ return({'skipped': {}, 'crlf': []}) }}{%- endif -%}
    {%- set found = feed_quarantined_read(files, label) -%}
    {%- set crlf_files = [] -%}
    {%- for file in files if file.name in found.with_empty_rows -%}{%- do crlf_files.append(file) -%}{%- endfor -%}
    {%- if crlf_files -%}
        {%- set again = feed_quarantined_read(crlf_files, label, crlf=true) -%}
        {%- for file in crlf_files -%}{%- do found.skipped.update({file.name: again.skipped.get(file.name, [])}) -%}{%- endfor -%}
    {%- endif -%}
    {{ return({'skipped': found.skipped, 'crlf': found.with_empty_rows}) }}
{% endmacro %}

{% macro feed_quarantined_read(files, label, crlf=false) %}
    {#- One read of `files` with store_rejects (the rejects tables are temporary, per connection):
        {'skipped': {file name: [(line, reason, text)]}, 'with_empty_rows': [file names]}. -#}
    {%- set errors_table = 'feed_line_errors__' ~ label -%}
    {%- set scans_table = 'feed_line_scans__' ~ label -%}
    {%- do run_query('drop table if exists ' ~ errors_table ~ '; drop table if exists ' ~ scans_table) -%}
    {%- set paths = [] -%}
    {%- for file in files -%}{%- do paths.append(sql_string(file.path)) -%}{%- endfor -%}
    {%- set counted = run_query(
        'select parse_filename(filename), count(*) filter (where line is null) from read_csv(['
        ~ paths | join(', ') ~ '], ' ~ feed_read_options(crlf) ~ ", filename=true, store_rejects=true, rejects_table='"
        ~ errors_table ~ "', rejects_scan='" ~ scans_table ~ "') group by 1") -%}
    {%- set with_empty_rows = [] -%}
    {%- for row in counted.rows if row[1] > 0 -%}{%- do with_empty_rows.append(row[0]) -%}{%- endfor -%}
    {%- set found = run_query(
        "select parse_filename(s.file_path), e.line, e.error_type, e.csv_line from " ~ errors_table ~ " as e "
        ~ "join " ~ scans_table ~ " as s using (scan_id, file_id) order by 1, 2") -%}
    {%- set reasons = {'INVALID ENCODING': 'invalid_utf8', 'LINE SIZE': 'line_too_long'} -%}
    {%- set skipped = {} -%}
    {%- for row in found.rows -%}
        {%- do skipped.setdefault(row[0], []).append((row[1], reasons.get(row[2], 'unreadable_line'), row[3])) -%}
    {%- endfor -%}
    {%- do run_query('drop table if exists ' ~ errors_table ~ '; drop table if exists ' ~ scans_table) -%}
    {{ return({'skipped': skipped, 'with_empty_rows': with_empty_rows}) }}
{% endmacro %}

{% macro feed_lines(pattern, files, unreadable={'skipped': {}, 'crlf': []}, rejects_label=none) %}
    {#- source_file, file_size, file_modified_at, source_line, line, read_error: every line of `files`
        (from feed_files); `unreadable` from feed_line_errors. With no file, an empty result that still
        names `pattern`, so a missing folder fails with DuckDB's "No files found" error.
        With `rejects_label` instead of `unreadable` (the optimistic read, see optimistic_read_suspects):
        each file is read with ignore_errors, its skipped lines listed in temporary tables
        `<rejects_label>__rejects_<n>_<k>` / `__scans_<n>_<k>`.
        Line numbers come from `with ordinality`, which reads a file on one thread only, and the
        parsing downstream of it stays on that thread. So a big file is read in `branches` (see
        read_branches): branch k of n keeps the lines whose number is k modulo n, each branch reads the
        whole file (reading is about a fifth of parsing) and DuckDB runs the branches of a union in
        parallel (with preserve_insertion_order off, see profiles.yml). -#}
    {%- if files | length == 0 %}
    select null::varchar as source_file, null::bigint as file_size, null::timestamp as file_modified_at,
           null::bigint as source_line, line, null::varchar as read_error
    from read_csv({{ sql_string(pattern) }}, {{ feed_read_options() }})
    where false
    {%- endif %}
    {%- set branches = read_branches(files) %}
    {%- for file in files %}
    {%- set file_index = loop.index %}
    {%- set skipped = unreadable.skipped.get(file.name, []) %}
    {%- set crlf = file.name in unreadable.crlf %}
    {%- set n = branches.get(file.name, 1) %}
    {%- for k in range(n) %}
    select {{ sql_string(file.name) }} as source_file, {{ file.size }}::bigint as file_size,
           timestamp {{ sql_string(file.modified) }} as file_modified_at,
           ordinality{% if skipped %} + coalesce(skipped.lines_before, 0){% endif %} as source_line,
           line, null::varchar as read_error
    from read_csv({{ sql_string(file.path) }}, {{ feed_read_options(crlf) }}{% if skipped %}, ignore_errors=true{% endif %}
        {%- if rejects_label %}, ignore_errors=true, store_rejects=true, rejects_table='{{ rejects_label }}__rejects_{{ file_index }}_{{ k }}',
        rejects_scan='{{ rejects_label }}__scans_{{ file_index }}_{{ k }}'{% endif %}) with ordinality
    {{ skipped_lines_join('ordinality', skipped) }}
    {%- if n > 1 %}
    where ordinality % {{ n }} = {{ k }}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- for line, reason, text in skipped %}
    union all
    select {{ sql_string(file.name) }}, {{ file.size }}::bigint, timestamp {{ sql_string(file.modified) }},
           {{ line }}::bigint, {{ sql_string(text) }}, {{ sql_string(reason) }}
    {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}

{% macro read_branches(files) %}
    {#- {file name: branches} for the files of one read: each file gets enough branches that none is
        a long lone tail on one thread, ceil(size * threads / total size), at most DuckDB's threads
        and at most 8 (or var('feed_read_branches') when set); files under
        var('feed_split_min_bytes') (64 MiB) are read whole (their reads are short). The cap: every
        branch reads the whole file, about a fifth of the parse's work, so past ~8 branches the
        reading is most of the time and more branches mostly burn cores. -#}
    {%- set big = [] -%}
    {%- for file in files if file.size > 0 and file.size >= var('feed_split_min_bytes') | int -%}
        {%- do big.append(file) -%}
    {%- endfor -%}
    {%- if not execute or not big -%}{{ return({}) }}{%- endif -%}
    {%- set forced = var('feed_read_branches') | int -%}
    {%- set threads = run_query("select current_setting('threads')").columns[0].values()[0] | int if not forced else 0 -%}
    {%- set total = big | sum(attribute='size') -%}
    {%- set branches = {} -%}
    {%- for file in big -%}
        {%- do branches.update({file.name: forced or [1, [threads, 8, ((file.size * threads + total - 1) // total)] | min] | max}) -%}
    {%- endfor -%}
    {{ return(branches) }}
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
    {#- source_file, source_line, raw_line, reject_reason of the lines `skipped` by the reader. The
        empty row that ends the union names its columns too: with none skipped it is the only branch,
        and the models add it with `union all by name`, which would add unnamed columns. -#}
    {%- for line, reason, text in skipped %}
    select {{ sql_string(file_name) }} as source_file, {{ line }}::bigint as source_line,
           {{ sql_string(text) }} as raw_line, {{ sql_string(reason) }} as reject_reason
    union all
    {%- endfor %}
    select null::varchar as source_file, null::bigint as source_line, null::varchar as raw_line,
           null::varchar as reject_reason
    where false
{% endmacro %}

{% macro optimistic_read_suspects(rejects_label, empty_rows_sql) %}
    {#- After an optimistic read (feed_lines with `rejects_label`): the names of the files whose lines
        it may not have numbered exactly, to read again exactly (feed_line_errors): a line the reader
        skipped (invalid UTF-8, too long: in the rejects tables, which this drops), or an empty row
        (`empty_rows_sql` gives their source_file: a blank line, or a CRLF file read as lines plus
        empty rows). -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set tables = read_rejects_tables(rejects_label) -%}
    {%- set queries = [empty_rows_sql] -%}
    {%- for table in tables -%}
        {%- do queries.append("select parse_filename(s.file_path) from " ~ table ~ " join "
            ~ table | replace('__rejects_', '__scans_') ~ " as s using (scan_id, file_id)") -%}
    {%- endfor -%}
    {%- set suspects = run_query("select distinct * from (" ~ queries | join(" union all ") ~ ") order by 1").columns[0].values() | list -%}
    {%- do drop_read_rejects(rejects_label, tables) -%}
    {{ return(suspects) }}
{% endmacro %}

{% macro read_rejects_tables(rejects_label) %}
    {#- The temporary rejects tables an optimistic read with `rejects_label` left on this connection. -#}
    {{ return(run_query("select table_name from duckdb_tables() where temporary and starts_with(table_name, '"
        ~ rejects_label ~ "__rejects_')").columns[0].values() | list) }}
{% endmacro %}

{% macro drop_read_rejects(rejects_label, tables=none) %}
    {#- Drops the rejects and scans tables of an optimistic read with `rejects_label` (all of them when
        `tables` is not given: an earlier failed run's would name its files). -#}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for table in (tables if tables is not none else read_rejects_tables(rejects_label)) -%}
        {%- do run_query("drop table " ~ table ~ "; drop table if exists " ~ table | replace('__rejects_', '__scans_')) -%}
    {%- endfor -%}
{% endmacro %}
