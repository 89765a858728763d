-- Batches of BATCH events ({"events": [...]}) per POST, every event_id unique.
local counter = 0
local prefix = os.getenv("WRK_PREFIX") or tostring(os.time())
local token = os.getenv("WRK_TOKEN") or ""
local size = tonumber(os.getenv("WRK_BATCH") or "100")
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
end

-- a distinct clock-in time per event: caches of parsed or shared values must not flatter the figures
function request()
  local parts = {}
  for i = 1, size do
    counter = counter + 1
    parts[i] = string.format(
      '{"event_id":"%s-%d-%d","type":"attendance.clock_in","subject":"E%d",' ..
      '"occurred_at":"2026-01-05T%02d:%02d:%02d+08:00","source":"bench","data":{"method":"face"}}',
      prefix, tid or 0, counter, counter % 5000, 8 + math.floor(counter / 3600) % 10, math.floor(counter / 60) % 60, counter % 60)
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
