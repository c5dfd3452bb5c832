"""The functions `query` may call: built-ins known to be free of side effects.

An allow-list, not a deny-list: a function that is not named here (or in a database's
`allowed_functions`) is refused, so a new or forgotten server function with a side effect
(advisory locks, replication slots, statistics resets, backups, sequences, notifications,
file or network access) can never slip through. The names are what the database itself
sees (PostgreSQL / SQLite spelling, lower case); sqlglot renders its typed nodes back into
that spelling before the lookup (guard.py).

Borderline cases: `pg_sleep` and friends are present because the statement timeout bounds
them; `current_setting` is present (it reads, `set_config` writes); `txid_current` is absent
(it assigns a transaction id); `nextval`/`setval`/`currval`/`lastval` are absent (sequences);
anything `pg_advisory_*`, `pg_*_backend`, `pg_*_slot*`, `pg_stat_reset*`,
`pg_backup_*`, `pg_notify`, `lo_*`, `dblink*`, `query_to_xml*`, `pg_read_*`, `pg_ls_*` is absent.
"""

from __future__ import annotations

_COMMON = """
abs avg bool_and bool_or ceil ceiling coalesce concat count cume_dist dense_rank every exp first_value
floor greatest lag last_value lead least length ln log lower ltrim max min mod nth_value ntile nullif
percent_rank pi power rank replace round row_number rtrim sign sqrt substr substring sum trim upper
cast case exists extract current_date current_time current_timestamp localtime localtimestamp
"""

POSTGRES = frozenset(
    (
        _COMMON
        + """
acos acosd asin asind atan atan2 atan2d atand cbrt cos cosd cosh cot cotd degrees div erf erfc factorial gcd
lcm log10 min_scale radians random random_normal scale sin sind sinh tan tand tanh trim_scale trunc width_bucket
ascii bit_length btrim char_length character_length chr concat_ws convert_from convert_to decode encode format
initcap left lpad md5 normalize octet_length overlay parse_ident position quote_ident quote_literal
quote_nullable regexp_count regexp_instr regexp_like regexp_match regexp_matches regexp_replace regexp_split_to_array
regexp_split_to_table regexp_substr repeat reverse right rpad sha224 sha256 sha384 sha512 split_part starts_with
string_to_array string_to_table strpos to_ascii to_hex translate unistr get_byte get_bit
age clock_timestamp date_add date_bin date_part date_subtract date_trunc isfinite justify_days justify_hours
justify_interval make_date make_interval make_time make_timestamp make_timestamptz now statement_timestamp
timeofday transaction_timestamp to_char to_date to_number to_timestamp timezone
array_agg array_append array_cat array_dims array_fill array_length array_lower array_ndims array_position
array_positions array_prepend array_remove array_replace array_sample array_shuffle array_to_string array_upper
cardinality trim_array unnest generate_series generate_subscripts
json_agg json_array_elements json_array_elements_text json_array_length json_build_array json_build_object
json_each json_each_text json_extract_path json_extract_path_text json_object json_object_agg json_object_keys
json_populate_record json_populate_recordset json_strip_nulls json_to_record json_to_recordset json_typeof
jsonb_agg jsonb_array_elements jsonb_array_elements_text jsonb_array_length jsonb_build_array jsonb_build_object
jsonb_each jsonb_each_text jsonb_extract_path jsonb_extract_path_text jsonb_insert jsonb_object jsonb_object_agg
jsonb_object_keys jsonb_path_exists jsonb_path_match jsonb_path_query jsonb_path_query_array jsonb_path_query_first
jsonb_populate_record jsonb_populate_recordset jsonb_pretty jsonb_set jsonb_set_lax jsonb_strip_nulls
jsonb_to_record jsonb_to_recordset jsonb_typeof to_json to_jsonb row_to_json array_to_json
string_agg bit_and bit_or bit_xor corr covar_pop covar_samp mode percentile_cont percentile_disc regr_avgx
regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy stddev stddev_pop stddev_samp
var_pop var_samp variance any_value range_agg range_intersect_agg xmlagg
lower_inc upper_inc lower_inf upper_inf isempty range_merge multirange
abbrev broadcast family host hostmask inet_merge inet_same_family masklen netmask network set_masklen text
gen_random_uuid uuidv4 uuid_extract_timestamp uuid_extract_version
to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank ts_rank_cd ts_headline
setweight strip numnode querytree length
current_catalog current_database current_role current_schema current_schemas current_user session_user user
version current_setting pg_typeof format_type pg_get_viewdef pg_get_constraintdef pg_get_indexdef
pg_get_expr pg_get_functiondef pg_table_size pg_relation_size pg_total_relation_size pg_column_size
pg_size_pretty pg_size_bytes obj_description col_description has_table_privilege has_column_privilege
has_schema_privilege to_regclass to_regtype
pg_sleep pg_sleep_for pg_sleep_until
row array
"""
    ).split()
)

SQLITE = frozenset(
    (
        _COMMON
        + """
char coalesce format glob hex ifnull iif instr like likelihood likely lower ltrim nullif octet_length printf quote
random randomblob rtrim sign soundex sqlite_version substr substring total typeof unhex unicode unlikely
zeroblob date time datetime julianday unixepoch strftime timediff group_concat string_agg
acos acosh asin asinh atan atan2 atanh cos cosh degrees log10 log2 radians sin sinh tan tanh trunc
json json_array json_array_length json_extract json_insert json_object json_patch json_remove json_replace
json_set json_type json_valid json_quote json_group_array json_group_object json_each json_tree
jsonb jsonb_array jsonb_extract jsonb_object
"""
    ).split()
)

BY_DIALECT = {"postgres": POSTGRES, "sqlite": SQLITE}
