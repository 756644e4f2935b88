-- wrk: Control Panel password sets, PUT /v1/accounts/{address}/password, spread over
-- ACCOUNTS accounts so that no two requests in flight hit the same one, each with a
-- new password. Counts statuses per thread and prints them at the end.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  statuses = {}
  accounts = tonumber(os.getenv("ACCOUNTS") or "256")
  nthreads = tonumber(os.getenv("THREADS") or "2")
  wrk.method = "PUT"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
end

function request()
  counter = counter + 1
  local n = (counter * nthreads + id) % accounts
  local path = "/v1/accounts/bench" .. n .. "@bench.example/password"
  local body = '{"password":"Fahrrad-Kaffee-Wien-' .. id .. "-" .. counter .. '"}'
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("status %d %d\n", code, n))
  end
end
