-- wrk load for POST /api/aml/detect/: unique transaction ids, 1,000 senders (so windows fill),
-- amounts below the reporting threshold (so structuring fires for some senders).
-- TOKEN must hold an access token: see BENCHMARKS.md.
local threads = {}
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
  table.insert(threads, thread)
end

function init(args)
  sequence = 0
  run = os.time()
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or ""),
  }
end

function request()
  sequence = sequence + 1
  local body = string.format(
    '{"transaction_id":"W%d-%d-%d","user_id":"U-%d","amount":%d,"sender_id":"S-%d","receiver_id":"R-%d"}',
    run, thread_id, sequence, sequence % 1000, 2000 + (sequence * 37) % 7900, sequence % 1000, sequence % 50)
  return wrk.format("POST", "/api/aml/detect/", headers, body)
end
