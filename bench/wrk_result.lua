-- What the benches' wrk scripts share (loaded by each with dofile): numbering wrk's threads,
-- tallying answers per thread, and the one result line the runner reads (bench/wrk.py).

local M = {threads = {}}

-- wrk's setup(): each thread learns its number (thread_no) and is kept for done()
function M.setup(thread)
   thread:set("thread_no", #M.threads)
   table.insert(M.threads, thread)
end

-- one more of ``key`` in a thread's tally (a global table, read by done() through thread:get)
function M.tally(counts, key)
   counts[key] = (counts[key] or 0) + 1
end

-- the threads' tallies named ``field``, summed, as a JSON object
local function merged(field)
   local sums = {}
   for _, thread in ipairs(M.threads) do
      for key, n in pairs(thread:get(field) or {}) do
         sums[key] = (sums[key] or 0) + n
      end
   end
   local parts = {}
   for key, n in pairs(sums) do
      table.insert(parts, string.format('"%s": %d', key, n))
   end
   return "{" .. table.concat(parts, ", ") .. "}"
end

-- wrk's done(): prints "<marker> {json}" with the request count, the latency percentiles, max
-- and mean (microseconds), the socket errors and each tally in ``fields``
function M.write(marker, fields, summary, latency)
   local parts = {}
   for _, q in ipairs({50, 95, 99}) do
      table.insert(parts, string.format('"p%d": %d', q, latency:percentile(q)))
   end
   for _, field in ipairs(fields) do
      table.insert(parts, string.format('"%s": %s', field, merged(field)))
   end
   local e = summary.errors
   io.write(string.format(
      '%s {"requests": %d, "duration_us": %d, "max": %d, "mean": %.1f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, %s}\n',
      marker, summary.requests, summary.duration, latency.max, latency.mean,
      e.connect, e.read, e.write, e.timeout, table.concat(parts, ", ")))
   io.stdout:flush()
end

return M
