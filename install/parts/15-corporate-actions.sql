
------------------------------------------------------------------------------
-- Market reference data: corporate actions
------------------------------------------------------------------------------

-- Splits and cash dividends per symbol and ex-date.  Bars stay as traded;
-- the adjusted series are derived from these rows at read time (README,
-- "Corporate actions").  A split turns split_from shares into split_to
-- (NVDA 2024-06-10: 1 and 10); a dividend pays cash_amount per share held
-- before the ex-date, in the currency the bars are quoted in.  Providers'
-- rows and a user's own (source 'manual', the default) live side by side;
-- the symbol is stored in upper case, as in stockext.ticks.
CREATE TABLE stockext.corporate_actions (
    symbol      text        NOT NULL,
    ex_date     date        NOT NULL,
    kind        text        NOT NULL,
    split_from  numeric,
    split_to    numeric,
    cash_amount numeric,
    currency    text,
    source      text        NOT NULL DEFAULT 'manual',
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT corporate_actions_pkey PRIMARY KEY (symbol, ex_date, kind),
    CONSTRAINT corporate_actions_kind_known CHECK (kind IN ('split', 'dividend')),
    -- numeric orders NaN above 'Infinity': "< 'Infinity'" refuses both.
    CONSTRAINT corporate_actions_dividend_amount
        CHECK (kind <> 'dividend' OR (cash_amount IS NOT NULL AND cash_amount >= 0 AND cash_amount < 'Infinity'
                                     AND split_from IS NULL AND split_to IS NULL)),
    CONSTRAINT corporate_actions_split_ratio
        CHECK (kind <> 'split' OR (split_from IS NOT NULL AND split_to IS NOT NULL
                                  AND split_from > 0 AND split_from < 'Infinity'
                                  AND split_to > 0 AND split_to < 'Infinity'
                                  AND cash_amount IS NULL AND currency IS NULL)),
    CONSTRAINT corporate_actions_currency_valid CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT corporate_actions_symbol_upper CHECK (symbol = upper(symbol COLLATE "C")),
    CONSTRAINT corporate_actions_symbol_valid CHECK (stockext.symbol_problem(symbol) IS NULL)
);
COMMENT ON TABLE stockext.corporate_actions IS
'splits and cash dividends per symbol and ex-date, from providers or entered by hand; the adjusted series (stockext.ticks_adjusted, bars(adjust => ...)) are derived from them at read time';
COMMENT ON COLUMN stockext.corporate_actions.ex_date IS
'first trading date on the new basis: the action adjusts the bars before 00:00 UTC of this date';
COMMENT ON COLUMN stockext.corporate_actions.split_from IS
'a split turns split_from shares into split_to (NVDA 2024-06-10: 1 and 10); NULL for a dividend';
COMMENT ON COLUMN stockext.corporate_actions.split_to IS
'a split turns split_from shares into split_to; NULL for a dividend';
COMMENT ON COLUMN stockext.corporate_actions.cash_amount IS
'cash paid per share held before the ex-date, as traded then (not split-adjusted); NULL for a split';
COMMENT ON COLUMN stockext.corporate_actions.currency IS
'ISO 4217 code of cash_amount, informative: the amount is taken to be in the currency of the bars';
COMMENT ON COLUMN stockext.corporate_actions.source IS
'provider that reported the action, or manual';
COMMENT ON COLUMN stockext.corporate_actions.fetched_at IS
'when the row was stored or last refreshed';
-- Reference data that every reader of adjusted bars reads.
REVOKE ALL ON stockext.corporate_actions FROM PUBLIC;
GRANT SELECT ON stockext.corporate_actions TO PUBLIC;

-- When each (provider, symbol) had its corporate actions fetched: the
-- worker's schedule (stockext.actions_refresh_interval), and what
-- refresh_corporate_actions() and backfill did.
CREATE TABLE stockext.action_refreshes (
    provider           text        NOT NULL,
    symbol             text        NOT NULL,
    last_refresh       timestamptz,
    actions_stored     bigint      NOT NULL DEFAULT 0,
    last_error         timestamptz,
    last_error_message text,
    next_refresh_at    timestamptz NOT NULL,
    CONSTRAINT action_refreshes_pkey PRIMARY KEY (provider, symbol)
);
COMMENT ON TABLE stockext.action_refreshes IS
'per provider and symbol: the last successful fetch of its corporate actions and the rows it added, the last failure, and when the worker fetches them next (stockext.actions_refresh_interval after a success, within the hour after a failure)';
REVOKE ALL ON stockext.action_refreshes FROM PUBLIC;

-- The factor that turns a bar's as-traded prices into adjusted ones, from
-- the actions whose ex-date is after the bar (README, "Corporate actions").
-- A query reads a symbol's actions once, for all its calls.
CREATE FUNCTION stockext.adjustment_factor(symbol text, ts timestamptz, adjust text DEFAULT 'all')
RETURNS double precision
AS 'MODULE_PATHNAME', 'stockext_adjustment_factor'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adjustment_factor(text, timestamptz, text) IS
'what the prices of symbol''s bar at ts are multiplied by to adjust them: adjust splits (product of split_from / split_to of the splits with a later ex-date), all (that times 1 - cash / previous close of each later dividend) or none (1); volumes are divided by the splits factor';

-- The adjusted price and volume in one call each: what the view and
-- bars() read per bar (bench/adjust.sh), equal to the expressions with
-- adjustment_factor() that their comments give.
CREATE FUNCTION stockext.adjust_price(price double precision, symbol text, ts timestamptz,
                                      adjust text DEFAULT 'all')
RETURNS double precision
AS 'MODULE_PATHNAME', 'stockext_adjust_price'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adjust_price(double precision, text, timestamptz, text) IS
'price of symbol''s bar at ts adjusted: price * stockext.adjustment_factor(symbol, ts, adjust)';

CREATE FUNCTION stockext.adjust_volume(volume bigint, symbol text, ts timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_adjust_volume'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adjust_volume(bigint, text, timestamptz) IS
'volume of symbol''s bar at ts split-adjusted to whole shares: (volume / stockext.adjustment_factor(symbol, ts, ''splits''))::bigint, rounded half to even';

-- The bars with OHLC and volume split-adjusted and adj_close adjusted for
-- splits and dividends.  security_invoker: reading it takes the right to
-- read stockext.ticks.
CREATE VIEW stockext.ticks_adjusted WITH (security_invoker = true) AS
SELECT t.symbol, t.ts, t.resolution,
       stockext.adjust_price(t.open, t.symbol, t.ts, 'splits') AS open,
       stockext.adjust_price(t.high, t.symbol, t.ts, 'splits') AS high,
       stockext.adjust_price(t.low, t.symbol, t.ts, 'splits') AS low,
       stockext.adjust_price(t.close, t.symbol, t.ts, 'splits') AS close,
       stockext.adjust_volume(t.volume, t.symbol, t.ts) AS volume,
       t.source, t.ingested_at,
       stockext.adjust_price(t.close, t.symbol, t.ts, 'all') AS adj_close
FROM stockext.ticks t;
COMMENT ON VIEW stockext.ticks_adjusted IS
'stockext.ticks with open, high, low, close and volume adjusted for splits (volumes to whole shares) and adj_close adjusted for splits and dividends, from stockext.corporate_actions';
REVOKE ALL ON stockext.ticks_adjusted FROM PUBLIC;
GRANT SELECT ON stockext.ticks_adjusted TO PUBLIC;

-- The simulated market's split: the random walk is the adjusted series, so
-- the simulated bars of symbol before the ex-date are put on the basis
-- they traded at (prices times split_to / split_from, volumes divided by
-- it) and the split is recorded.  The as-traded series then drops at the
-- ex-date and ticks_adjusted (or bars(adjust => 'splits')) is the walk.
-- Bars a live feed stores later are after the ex-date, on the new basis.
CREATE FUNCTION stockext.simulate_split(symbol text, ex_date date, split_to numeric,
                                        split_from numeric DEFAULT 1)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ratio float8;
    moved bigint;
BEGIN
    IF symbol IS NULL OR ex_date IS NULL OR split_to IS NULL OR split_from IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.simulate_split() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    symbol := upper(symbol COLLATE "C");
    -- The row's constraints check the ratio; a second split that day is a
    -- unique violation before any bar moves.
    INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to, source)
    VALUES (symbol, ex_date, 'split', split_from, split_to, 'simulated');
    ratio := split_to::float8 / split_from::float8;
    UPDATE stockext.ticks t
       SET open = t.open * ratio, high = t.high * ratio, low = t.low * ratio, close = t.close * ratio,
           volume = round(t.volume / ratio)::bigint
     WHERE t.symbol = simulate_split.symbol AND t.source = 'simulated'
       AND t.ts < simulate_split.ex_date::timestamp AT TIME ZONE 'UTC';
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$;
COMMENT ON FUNCTION stockext.simulate_split(text, date, numeric, numeric) IS
'simulates a split_from-for-split_to split of a simulated symbol at ex_date (00:00 UTC): its simulated bars before then are put on the as-traded basis (prices times split_to / split_from, volumes divided) and the split is recorded in stockext.corporate_actions; returns the bars changed';
REVOKE ALL ON FUNCTION stockext.simulate_split(text, date, numeric, numeric) FROM PUBLIC;

-- One provider's corporate actions of a symbol, all of its history: its
-- requests (TwelveData /splits and /dividends, Alpha Vantage SPLITS and
-- DIVIDENDS, Yahoo's chart events over its whole range) within the request
-- limits, with the key of the provider's first keyed feed.
CREATE FUNCTION stockext.fetch_actions(provider text, symbol text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_fetch_actions'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.fetch_actions(text, text) IS
'fetches every split and dividend of a symbol from a provider and stores them in stockext.corporate_actions (rows already there are kept); returns the rows added, or NULL when the provider offers none (used by refresh_corporate_actions and backfill)';
REVOKE ALL ON FUNCTION stockext.fetch_actions(text, text) FROM PUBLIC;

-- Fetches the corporate actions of one symbol, or of every feed's symbol,
-- from the providers of the feeds that poll it.  For one symbol a failure
-- is an error; for all, a WARNING per symbol and the rest go on.
CREATE FUNCTION stockext.refresh_corporate_actions(symbol text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted text := upper(symbol COLLATE "C");
    pair   record;
    got    bigint;
    total  bigint := 0;
BEGIN
    IF wanted IS NOT NULL AND NOT EXISTS (SELECT FROM stockext.feeds f WHERE wanted = ANY (f.symbols)) THEN
        RAISE EXCEPTION 'symbol "%" is polled by no feed', wanted
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Corporate actions are fetched from the providers of the feeds that poll a symbol; enter others into stockext.corporate_actions.';
    END IF;
    FOR pair IN SELECT DISTINCT f.provider, s.symbol
                FROM stockext.feeds f CROSS JOIN unnest(f.symbols) AS s(symbol)
                WHERE wanted IS NULL OR s.symbol = wanted
                ORDER BY 1, 2 LOOP
        IF wanted IS NOT NULL THEN
            got := stockext.fetch_actions(pair.provider, pair.symbol);
        ELSE
            BEGIN
                got := stockext.fetch_actions(pair.provider, pair.symbol);
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'corporate actions of "%" from % not refreshed: %', pair.symbol, pair.provider, SQLERRM;
                CONTINUE;
            END;
        END IF;
        total := total + coalesce(got, 0);
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION stockext.refresh_corporate_actions(text) IS
'fetches the splits and dividends of a symbol (NULL: of every feed symbol) from the providers of its feeds that offer them, within their request limits, into stockext.corporate_actions (rows already there, such as corrections, are kept); returns the rows added';
REVOKE ALL ON FUNCTION stockext.refresh_corporate_actions(text) FROM PUBLIC;
