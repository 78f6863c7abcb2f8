-- The application rush as a wrk script: every connection is one parent. Each thread takes the
-- applications numbered thread_no, thread_no + threads, ... of the requests file, sends the k-th
-- of them at its moment of the arrival schedule (k-th of this thread's delays; the timers fire
-- in the order they were set), and a connection that has sent its application stays silent.
-- The thread stops once every one of its applications is answered, and says so on stdout.
--
-- wrk -t T -c N -d <max> --timeout 60s -s rush.lua <gateway> -- <requests file> <T> <spread ms> apply|floor
-- requests file: one application per line, "<bearer token>\t<JSON body>", N lines.
-- Prints one line "RUSH_RESULT {json}" with the latency percentiles (microseconds) and the
-- count of every status and error code.

-- the shared part (wrk_result.lua, beside this script)
local result = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_result.lua")
setup = result.setup

local mine = {}       -- this thread's applications: {token, body, global index}
local scheduled = 0   -- delays handed out
local sent = 0        -- requests written
local spread_ms, total = 0, 0
local floor = false   -- "floor": the same schedule on a route that does nothing
answered = 0
statuses = {}         -- "201" -> n, read by done() through thread:get
codes = {}            -- "no_free_seats" -> n

function init(args)
   local threads_total = tonumber(args[2])
   spread_ms = tonumber(args[3])
   floor = args[4] == "floor"
   local index = 0
   for line in io.lines(args[1]) do
      if index % threads_total == thread_no then
         local tab = string.find(line, "\t", 1, true)
         table.insert(mine, {string.sub(line, 1, tab - 1), string.sub(line, tab + 1), index})
      end
      index = index + 1
   end
   total = index
end

function delay()
   scheduled = scheduled + 1
   local item = mine[scheduled]
   if item == nil then
      return 3600 * 1000  -- this connection has sent its application: never again
   end
   -- evenly over the spread, by the application's number among all of them
   return math.floor(spread_ms * item[3] / total)
end

function request()
   if scheduled == 0 then
      -- wrk calls this once in its first thread before the run, to check the script: not sent
      return wrk.format("GET", "/healthz")
   end
   sent = sent + 1
   local item = mine[sent]
   if item == nil then
      return wrk.format("GET", "/healthz")
   end
   if floor then
      return wrk.format("GET", "/api/navigator/health")
   end
   return wrk.format("POST", "/api/navigator/enrolments",
      {["Authorization"] = "Bearer " .. item[1], ["Content-Type"] = "application/json"}, item[2])
end

function response(status, headers, body)
   result.tally(statuses, tostring(status))
   local code = string.match(body or "", '"code"%s*:%s*"([^"]+)"')
   if code then
      result.tally(codes, code)
   end
   answered = answered + 1
   if answered == #mine then
      -- wrk's main thread sleeps for the whole duration: the runner interrupts it (SIGINT) once
      -- every thread has said so
      io.write("RUSH_THREAD_DONE\n")
      io.stdout:flush()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   result.write("RUSH_RESULT", {"statuses", "codes"}, summary, latency)
end
