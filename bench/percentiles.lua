-- wrk: print p50/p99 and non-2xx counts in a form the scripts can read.
-- With KEY set, sends it as a bearer token.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  errors = 0
  local key = os.getenv("KEY")
  if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
end
function response(status, headers, body)
  if status >= 300 then errors = errors + 1 end
end
function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  io.write(string.format("rps %.1f\np50_ms %.2f\np99_ms %.2f\nerrors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
