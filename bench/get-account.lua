-- wrk: GET /v1/accounts/{address}, the Control Panel's most frequent read, as a
-- steady stream: each connection waits DELAY_MS between requests, so that the
-- stream measures latency without itself taking the machine's CPU.
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  statuses = {}
  pause = tonumber(os.getenv("DELAY_MS") or "10")
end
function delay()
  return pause
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do total[code] = (total[code] or 0) + n end
  end
  for code, n in pairs(total) do io.write(string.format("status %d %d\n", code, n)) end
  io.write(string.format("p50_ms %.2f\np99_ms %.2f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
