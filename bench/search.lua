-- Catalogue searches as a wrk script: every connection is one person searching. Each thread
-- cycles through the request paths of the paths file (starting at its own offset, so the
-- threads do not send the same query at the same moment). With a think time, a connection
-- pauses before every search for an exponentially distributed time of that mean, as people
-- browsing do, cut at 4 s: the navigator's server closes a connection idle for 5 s, and wrk
-- counts the search it then writes on the closed connection as a socket error, not a result
-- (about 2 % of the pauses are longer; the mean pause is 2 % shorter). wrk counts a request's
-- latency from the moment it is written, after the pause.
--
-- wrk -t T -c N -d <seconds> -H "Authorization: Bearer ..." -s search.lua <url> -- <paths file> <think ms>
-- paths file: one request path with its query string per line.
-- Prints one line "SEARCH_RESULT {json}": the latency percentiles (microseconds), the request
-- count and the count of every status.

local thread_count = 0
local threads = {}

function setup(thread)
   thread:set("thread_no", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

local paths = {}
local next_path = 1
local think_ms = 0
local MAX_PAUSE_MS = 4000
statuses = {}   -- "200" -> n, read by done() through thread:get

function init(args)
   for line in io.lines(args[1]) do
      table.insert(paths, line)
   end
   think_ms = tonumber(args[2])
   next_path = 1 + (thread_no * 37) % #paths
   math.randomseed(1000 + thread_no)
end

function delay()
   if think_ms <= 0 then
      return 0
   end
   return math.min(MAX_PAUSE_MS, math.floor(-think_ms * math.log(1 - math.random())))
end

function request()
   local path = paths[next_path]
   next_path = next_path % #paths + 1
   return wrk.format("GET", path)
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      for key, n in pairs(thread:get("statuses") or {}) do
         merged[key] = (merged[key] or 0) + n
      end
   end
   local parts = {}
   for key, n in pairs(merged) do
      table.insert(parts, string.format('"%s": %d', key, n))
   end
   local p = {}
   for _, q in ipairs({50, 95, 99}) do
      table.insert(p, string.format('"p%d": %d', q, latency:percentile(q)))
   end
   local e = summary.errors
   io.write(string.format(
      'SEARCH_RESULT {"requests": %d, "duration_us": %d, %s, "max": %d, "mean": %.1f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "statuses": {%s}}\n',
      summary.requests, summary.duration, table.concat(p, ", "), latency.max, latency.mean,
      e.connect, e.read, e.write, e.timeout, table.concat(parts, ", ")))
end
