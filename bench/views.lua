-- Page views as a wrk script: a view is one or more GET requests sent one after another on the
-- same connection (a portal page: one request; the same page's API calls made directly: each of
-- them), and its latency runs from the first request written to the last answer read. Run with
-- as many threads as connections (wrk -t N -c N): the script's state is a thread's, and so one
-- person's. With a think time a person pauses before every view (exponentially distributed, that
-- mean, cut at 4 s as search.lua explains), never between the calls of one view.
--
-- wrk -t N -c N -d <seconds> [-H "Cookie: ..." | -H "Authorization: ..."] -s views.lua <url> -- <views file> <think ms>
-- views file: one view a line, its request paths (with their query strings) separated by spaces.
-- Prints one line "VIEWS_RESULT {json}": the latency of every view (microseconds), the count of
-- every answer's status and wrk's socket errors.

local result = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_result.lua")
setup = result.setup

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } pfdo_timespec;
int clock_gettime(int clock_id, pfdo_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock_now = ffi.new("pfdo_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, clock_now)
   return tonumber(clock_now.tv_sec) * 1000000 + tonumber(clock_now.tv_nsec) / 1000
end

local views = {}
local next_view = 1
local view = nil
local step = 1
local started = 0
local think_ms = 0
local MAX_PAUSE_MS = 4000
statuses = {}   -- "200" -> n, read by done() through thread:get
latencies = {}  -- microseconds of each whole view, read by done()

function init(args)
   for line in io.lines(args[1]) do
      local paths = {}
      for path in line:gmatch("%S+") do
         table.insert(paths, path)
      end
      table.insert(views, paths)
   end
   think_ms = tonumber(args[2])
   next_view = 1 + (thread_no * 7) % #views
   math.randomseed(2000 + thread_no)
end

function delay()
   if think_ms <= 0 or step > 1 then
      return 0
   end
   return math.min(MAX_PAUSE_MS, math.floor(-think_ms * math.log(1 - math.random())))
end

function request()
   if step == 1 then
      view = views[next_view]
      next_view = next_view % #views + 1
      started = now_us()
   end
   return wrk.format("GET", view[step])
end

function response(status, headers, body)
   result.tally(statuses, tostring(status))
   if step < #view then
      step = step + 1
      return
   end
   table.insert(latencies, math.floor(now_us() - started))
   step = 1
end

function done(summary, latency, requests)
   local all = {}
   for _, thread in ipairs(result.threads) do
      for _, us in ipairs(thread:get("latencies") or {}) do
         table.insert(all, string.format("%d", us))
      end
   end
   result.write("VIEWS_RESULT", {"statuses"}, summary, latency)
   io.write("VIEWS_LATENCIES [" .. table.concat(all, ",") .. "]\n")
   io.stdout:flush()
end
