-- The one wrk script of the benchmarks (bench/README.md). What it sends is chosen by
-- environment variables, so that bench/run drives every row the same way:
--
--   BENCH_MODE=static   GET the URL given to wrk with `Authorization: Bearer $BENCH_KEY`
--                       (no key: no header, for the ceiling)
--   BENCH_MODE=keys     GET the URL's path with a random key of $BENCH_KEYS_FILE per request
--                       (breadth: a random organization per request)
--   BENCH_MODE=upload   POST each line of $BENCH_BODIES_FILE once, from line $BENCH_OFFSET
--                       on, thread k of n taking lines offset+k, offset+k+n, ... (distinct
--                       certificates; the next run starts after offset + n * the most any
--                       thread sent; a run that exhausts the file reports it instead of
--                       sending duplicates unnoticed)
--   BENCH_MODE=toggle   POST {"certificate_ids": [$BENCH_IDS]} to .../activate and
--                       .../deactivate in turn (the URL's path is the certificates list)
--
-- done() prints one line `BENCH_RESULT {json}` with the counts and latency percentiles.

local mode = os.getenv("BENCH_MODE") or "static"
local key = os.getenv("BENCH_KEY")
local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("index", thread_count - 1)
   table.insert(threads, thread)
end

local function auth(k)
   local headers = { ["Content-Type"] = "application/json" }
   if k and k ~= "" then
      headers["Authorization"] = "Bearer " .. k
   end
   return headers
end

local requests_list = {}
local position = 0
sent = 0
exhausted = 0

local function read_lines(path)
   local lines = {}
   local file = assert(io.open(path, "r"))
   for line in file:lines() do
      if line ~= "" then
         table.insert(lines, line)
      end
   end
   file:close()
   return lines
end

function init(args)
   local total = tonumber(os.getenv("BENCH_THREADS") or "1")
   if mode == "static" then
      for name, value in pairs(auth(key)) do
         wrk.headers[name] = value
      end
   elseif mode == "keys" then
      local keys = read_lines(os.getenv("BENCH_KEYS_FILE"))
      for i, k in ipairs(keys) do
         requests_list[i] = wrk.format("GET", wrk.path, auth(k))
      end
      math.randomseed(os.time() * 7 + index)
   elseif mode == "upload" then
      local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
      local file = assert(io.open(os.getenv("BENCH_BODIES_FILE"), "r"))
      local line_number = 0
      for line in file:lines() do
         if line_number >= offset and (line_number - offset) % total == index then
            table.insert(requests_list, wrk.format("POST", wrk.path, auth(key), line))
         end
         line_number = line_number + 1
      end
      file:close()
   elseif mode == "toggle" then
      local body = '{"certificate_ids": [' .. os.getenv("BENCH_IDS") .. ']}'
      requests_list[1] = wrk.format("POST", wrk.path .. "/activate", auth(key), body)
      requests_list[2] = wrk.format("POST", wrk.path .. "/deactivate", auth(key), body)
   end
end

if mode ~= "static" then
   request = function()
      sent = sent + 1
      if mode == "keys" then
         return requests_list[math.random(#requests_list)]
      elseif mode == "toggle" then
         return requests_list[(sent % 2) + 1]
      end
      position = position + 1
      if position > #requests_list then
         exhausted = exhausted + 1
         position = #requests_list
      end
      return requests_list[position]
   end
end

function done(summary, latency, requests)
   local total_sent, total_exhausted, max_thread_sent = 0, 0, 0
   for _, thread in ipairs(threads) do
      local thread_sent = thread:get("sent") or 0
      total_sent = total_sent + thread_sent
      max_thread_sent = math.max(max_thread_sent, thread_sent)
      total_exhausted = total_exhausted + (thread:get("exhausted") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, "non_2xx": %d, "sent": %d, "max_thread_sent": %d, "exhausted": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout, e.status, total_sent, max_thread_sent, total_exhausted))
end
