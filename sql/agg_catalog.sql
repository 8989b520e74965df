-- The aggregates' catalog entries, and their state types' exact text and
-- binary forms.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- Every aggregate: order-independent ones have a combine function and a
-- real (non-internal) state type; the sliding ones an inverse transition.
-- The seeded forms (an argument seed) have none: every partial state
-- would carry the seed.
SELECT p.oid::regprocedure AS aggregate, p.proparallel AS parallel,
       a.aggtranstype::regtype AS stype, a.aggcombinefn <> 0 AS combine,
       a.aggmtranstype::regtype AS mstype, a.aggminvtransfn <> 0 AS inverse
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'stockext'::regnamespace
ORDER BY p.oid::regprocedure::text;
SELECT p.oid::regprocedure AS order_independent_without_combine_or_real_state
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'stockext'::regnamespace AND p.proname <> 'volatility'
  AND 'seed' <> ALL (coalesce(p.proargnames, '{}'))
  AND (a.aggcombinefn = 0 OR a.aggtranstype = 'internal'::regtype OR p.proparallel <> 's');

-- States holding awkward doubles: non-terminating binary fractions,
-- subnormals, -0, the extremes, NaN and infinities.
CREATE TEMP TABLE awkward (x float8);
INSERT INTO awkward VALUES (0.1), (1/3.0), (2/3.0), (1e-310), (5e-324), ('-0'), (1.7976931348623157e308),
    (-2.2250738585072014e-308), (100000.0001), (123456789.123456789), ('NaN'), ('Infinity'), ('-Infinity');
CREATE TABLE agg_catalog_states AS
SELECT a.x, b.x AS y,
       stockext.moments_trans(stockext.moments_trans(NULL, a.x), b.x) AS m,
       stockext.vwap_trans(stockext.vwap_trans(NULL, a.x, b.x), b.x, 1/3.0) AS v,
       stockext.mmax_trans(NULL, a.x) AS e,
       stockext.candle_bar_trans(stockext.candle_trans(NULL, '2026-11-20 10:00', a.x, b.x),
                                 '2026-11-20 10:01', b.x, b.x, a.x, a.x, 1/7.0) AS c,
       stockext.twap_trans(stockext.twap_trans(NULL, '2026-11-20 10:00', a.x), '2026-11-20 10:00:01.234567', b.x) AS t
FROM awkward a, awkward b;

-- Every real state type of the aggregates is covered here (returns_state,
-- whose prices must be positive, in rollup_metrics).
SELECT DISTINCT a.aggtranstype::regtype::text AS state_type,
       a.aggtranstype IN ('stockext.moments_state'::regtype, 'stockext.vwap_state'::regtype,
                          'stockext.extremum_state'::regtype, 'stockext.candle_state'::regtype,
                          'stockext.twap_state'::regtype, 'stockext.returns_state'::regtype) AS covered
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'stockext'::regnamespace AND a.aggtranstype <> 'internal'::regtype
ORDER BY 1;

-- Text: the same digits whatever extra_float_digits says, and they read back.
SET extra_float_digits = 3;
CREATE TEMP TABLE text3 AS SELECT x, y, m::text AS m, v::text AS v, e::text AS e, c::text AS c, t::text AS t FROM agg_catalog_states;
SET extra_float_digits = 0;
SELECT count(*) AS states,
       count(*) FILTER (WHERE s.m::text = t.m AND s.v::text = t.v AND s.e::text = t.e AND s.c::text = t.c
                          AND s.t::text = t.t) AS same_text_at_0,
       count(*) FILTER (WHERE t.m::stockext.moments_state::text = t.m AND t.v::stockext.vwap_state::text = t.v
                          AND t.e::stockext.extremum_state::text = t.e AND t.c::stockext.candle_state::text = t.c
                          AND t.t::stockext.twap_state::text = t.t) AS read_back
FROM agg_catalog_states s JOIN text3 t ON s.x IS NOT DISTINCT FROM t.x AND s.y IS NOT DISTINCT FROM t.y;
-- The digits are exact: the shortest that read back as the same double.
SELECT e::text FROM agg_catalog_states WHERE y = 0.1 ORDER BY x::text COLLATE "C";
SELECT t::text, stockext.twap_final(t) FROM agg_catalog_states WHERE x = 0.1 AND y IN (1/3.0, 5e-324, 'NaN') ORDER BY y;
-- And the finals give the same answers on states that went through text.
SELECT count(*) FILTER (WHERE stockext.sma_final(m) IS NOT DISTINCT FROM stockext.sma_final(m::text::stockext.moments_state)
                          AND stockext.mstddev_samp_final(m) IS NOT DISTINCT FROM stockext.mstddev_samp_final(m::text::stockext.moments_state)
                          AND stockext.vwap_final(v) IS NOT DISTINCT FROM stockext.vwap_final(v::text::stockext.vwap_state)
                          AND stockext.candle_final(c) IS NOT DISTINCT FROM stockext.candle_final(c::text::stockext.candle_state)
                          AND stockext.twap_final(t) IS NOT DISTINCT FROM stockext.twap_final(t::text::stockext.twap_state)) AS same_results
FROM agg_catalog_states;

-- Binary: COPY out and back in binary format (send and receive).
SELECT '/tmp/stockext_agg_catalog_' || pg_backend_pid() || '.bin' AS binfile \gset
\set out 'cat > ' :binfile
\set in 'cat ' :binfile '; rm -f ' :binfile
COPY agg_catalog_states TO PROGRAM :'out' (FORMAT binary);
CREATE TEMP TABLE copied (LIKE agg_catalog_states);
COPY copied FROM PROGRAM :'in' (FORMAT binary);
SELECT count(*) AS states,
       count(*) FILTER (WHERE s.m::text = c.m::text AND s.v::text = c.v::text
                          AND s.e::text = c.e::text AND s.c::text = c.c::text AND s.t::text = c.t::text) AS binary_round_trip,
       count(*) FILTER (WHERE stockext.moments_state_send(s.m) = stockext.moments_state_send(c.m)
                          AND stockext.candle_state_send(s.c) = stockext.candle_state_send(c.c)
                          AND stockext.twap_state_send(s.t) = stockext.twap_state_send(c.t)) AS same_bytes
FROM agg_catalog_states s JOIN copied c ON s.x IS NOT DISTINCT FROM c.x AND s.y IS NOT DISTINCT FROM c.y;

DROP TABLE agg_catalog_states;
