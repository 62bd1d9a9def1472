-- wrk counterpart of the bench's search-patient-by-identifier workload: GET Patient?identifier=system|value
-- over the identifiers `carapace-bench --seed-only --write-identifiers FILE` seeded, one chosen at random
-- per request, so every search finds exactly the patient the bench created with that MRN.
--
--   wrk -t2 -c32 -d60s --latency -s carapace-bench/wrk/search-patient-by-identifier.lua \
--       -H "Authorization: Bearer $TOKEN" https://localhost:8443/fhir -- identifiers.txt
--
-- The token comes in with -H, or from the environment variable WRK_BEARER_TOKEN (which stays out of
-- ps); without either no Authorization header is sent (a stock HAPI FHIR server needs none).
-- No response() callback on purpose: defining one makes wrk parse every response in Lua.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local queries = {}

-- Percent-encodes everything but RFC 3986's unreserved characters, as the bench's URLEncoder does for
-- the '|' and the system's ':' and '/' (a server may refuse a raw '|').
local function percent_encode(text)
  return (text:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local file = args[1] or error("usage: wrk ... -- IDENTIFIER_FILE (system|value a line)")
  for line in io.lines(file) do
    if #line > 0 then
      if not line:find("|", 1, true) then error("not system|value: line " .. (#queries + 1) .. " of " .. file) end
      queries[#queries + 1] = wrk.path .. "/Patient?identifier=" .. percent_encode(line)
    end
  end
  if #queries == 0 then error("no identifiers in " .. file) end
  -- A seed per thread, so that threads do not replay the same sequence.
  math.randomseed(os.time() * 100 + (thread_number or 0))
  -- Added to wrk.headers, which hold the -H headers: a headers argument to wrk.format would replace them.
  wrk.headers["Accept"] = "application/fhir+json"
  local token = os.getenv("WRK_BEARER_TOKEN")
  if token and #token > 0 then wrk.headers["Authorization"] = "Bearer " .. token end
end

function request()
  return wrk.format("GET", queries[math.random(#queries)])
end

function done(summary, latency, requests)
  io.write(string.format(
    "errors: non-2xx/3xx %d, connect %d, read %d, write %d, timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
  io.write(string.format("latency ms: p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
  io.write(string.format("summary: requests %d, seconds %.3f\n", summary.requests, summary.duration / 1e6))
end
