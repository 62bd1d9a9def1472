-- wrk counterpart of the bench's issue-backend-token workload (issue 18: 500 tokens/s): POST
-- /oauth2/token with client_credentials and a private_key_jwt assertion, each assertion sent once
-- (the server refuses a replayed jti). The bodies are signed beforehand by the bench, so that
-- neither signing nor a Java HTTP client takes CPU from the server on a 2-core machine:
--
--   java -jar carapace-bench/target/carapace-bench.jar --write-assertions /tmp/assertions.txt \
--       --assertions 60000 --assertion-client-id "$CLIENT" --assertion-key DIR/assertion-key.pk8 \
--       --cacert data/tls/server.crt
--   wrk -t2 -c16 -d40s --latency -s carapace-bench/wrk/issue-backend-token.lua \
--       https://localhost:8443/oauth2/token -- /tmp/assertions.txt 2
--
-- Use them within 290 s of signing (each assertion's lifetime). Thread k of THREADS (wrk's -t) sends lines
-- k, k+THREADS, ...; a thread that runs out sends an empty body, which the server refuses (400), so
-- running out shows as non-2xx responses, never as a replay counted as success.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  local file = assert(io.open(args[1] or "", "r"), "usage: -- FILE THREADS (bodies, one per line; wrk's -t)")
  local thread_count = assert(tonumber(args[2]), "usage: -- FILE THREADS (wrk's -t)")
  bodies = {}
  local n, mine = 0, 0
  for line in file:lines() do
    if n % thread_count == thread_number - 1 then
      mine = mine + 1
      bodies[mine] = line
    end
    n = n + 1
  end
  file:close()
  next_body = 1
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"

function request()
  local body = bodies[next_body] or ""
  next_body = next_body + 1
  return wrk.format(nil, nil, nil, body)
end
