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
--                       thread sent). A thread whose lines run out sends no duplicate: each
--                       of its connections then parks on an unfinished request head (which
--                       the server waits for and never answers), and once all of them
--                       ($BENCH_CONNECTIONS per thread) got the answer to their last line,
--                       the thread stops. The run is then measured from its first request to
--                       the last thread's stop (or the end of the run, for a thread that did
--                       not run out), so that a server fast enough to use up the file early
--                       gets a correct figure, not 409s
--   BENCH_MODE=toggle   POST {"certificate_ids": [$BENCH_IDS]} to .../activate and
--                       .../deactivate in turn (the URL's path is the certificates list)
--
-- done() prints one line `BENCH_RESULT {json}` with the counts and latency percentiles.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local now_buffer = ffi.new("bench_timespec")

-- Microseconds on the monotonic clock (wrk gives its scripts no clock of its own).
local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now_buffer)
   return tonumber(now_buffer.tv_sec) * 1000000 + math.floor(tonumber(now_buffer.tv_nsec) / 1000)
end

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
local idle_request = nil
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "1")
local parked = 0
-- Read by done() through thread:get: bodies handed out, and (upload) when this thread sent
-- its first request and when it ran out of lines (0: it did not).
sent = 0
started_us = 0
ran_out_us = 0

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
      -- What a connection gets once its thread's lines ran out: a request head without its
      -- final empty line, which the server waits for (no handler runs, nothing is answered
      -- within its header timeout) until the thread stops and closes the connection.
      idle_request = "GET " .. wrk.path .. " HTTP/1.1\r\nHost: bench\r\n"
   elseif mode == "toggle" then
      local body = '{"certificate_ids": [' .. os.getenv("BENCH_IDS") .. ']}'
      requests_list[1] = wrk.format("POST", wrk.path .. "/activate", auth(key), body)
      requests_list[2] = wrk.format("POST", wrk.path .. "/deactivate", auth(key), body)
   end
end

if mode ~= "static" then
   request = function()
      if mode == "keys" then
         sent = sent + 1
         return requests_list[math.random(#requests_list)]
      elseif mode == "toggle" then
         sent = sent + 1
         return requests_list[(sent % 2) + 1]
      end
      if started_us == 0 then
         started_us = now_us()
      end
      if position >= #requests_list then
         -- This connection's last line was answered (or it had none).
         parked = parked + 1
         if parked == connections then
            ran_out_us = now_us()
            wrk.thread:stop()
         end
         return idle_request
      end
      position = position + 1
      sent = sent + 1
      return requests_list[position]
   end
end

function done(summary, latency, requests)
   local total_sent, max_thread_sent, threads_ran_out = 0, 0, 0
   local first_us, last_ran_out_us = nil, 0
   for _, thread in ipairs(threads) do
      local thread_sent = thread:get("sent") or 0
      total_sent = total_sent + thread_sent
      max_thread_sent = math.max(max_thread_sent, thread_sent)
      local started = thread:get("started_us") or 0
      if started > 0 and (first_us == nil or started < first_us) then
         first_us = started
      end
      local ran_out = thread:get("ran_out_us") or 0
      if ran_out > 0 then
         threads_ran_out = threads_ran_out + 1
         last_ran_out_us = math.max(last_ran_out_us, ran_out)
      end
   end
   -- The run's length, unless lines ran out: then from the first request to the last thread's
   -- stop (a thread that did not run out ran to the end of the run).
   local duration = summary.duration
   if threads_ran_out > 0 and first_us ~= nil then
      duration = last_ran_out_us - first_us
      if threads_ran_out < #threads then
         duration = math.max(duration, summary.duration)
      end
      duration = math.max(duration, 1)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "run_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, "non_2xx": %d, "sent": %d, "max_thread_sent": %d, "threads_ran_out": %d}\n',
      summary.requests, duration, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout, e.status, total_sent, max_thread_sent, threads_ran_out))
end
