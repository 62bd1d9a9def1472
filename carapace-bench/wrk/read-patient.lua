-- wrk cross-check of the bench's read-patient workload: GET Patient/{id} over the ids that
-- `carapace-bench --seed-only --write-dataset FILE` seeded, one chosen at random per request.
--
--   wrk -t2 -c32 -d60s --latency -s carapace-bench/wrk/read-patient.lua \
--       -H "Authorization: Bearer $TOKEN" https://localhost:8443/fhir -- patients.txt
--
-- The token comes in with -H (wrk sends it on every request), or from the environment variable
-- WRK_BEARER_TOKEN (which stays out of ps); get one from /oauth2/token. Without either no
-- Authorization header is sent (a stock HAPI FHIR server needs none).
-- No response() callback on purpose: defining one makes wrk parse every response in Lua.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local ids = {}

function init(args)
  local file = args[1] or error("usage: wrk ... -- PATIENT_ID_FILE")
  for line in io.lines(file) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  if #ids == 0 then error("no patient ids in " .. file) end
  -- A seed per thread, so that threads do not replay the same sequence.
  math.randomseed(os.time() * 100 + (thread_number or 0))
  -- Added to wrk.headers, which hold the -H headers: a headers argument to wrk.format would replace them.
  wrk.headers["Accept"] = "application/fhir+json"
  local token = os.getenv("WRK_BEARER_TOKEN")
  if token and #token > 0 then wrk.headers["Authorization"] = "Bearer " .. token end
end

function request()
  return wrk.format("GET", wrk.path .. "/Patient/" .. ids[math.random(#ids)])
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
