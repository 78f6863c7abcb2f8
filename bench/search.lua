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

-- the shared part (wrk_result.lua, beside this script)
local result = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_result.lua")
setup = result.setup

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
   result.tally(statuses, tostring(status))
end

function done(summary, latency, requests)
   result.write("SEARCH_RESULT", {"statuses"}, summary, latency)
end
