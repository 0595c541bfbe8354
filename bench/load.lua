-- wrk script for bench/load.py. Arguments: a file of request paths (one a line, taken in turn) and a nonce; with a
-- nonce, each request gets `?bench=<nonce>-<thread>-<n>`, a URL no cache has seen. At the end it prints one line,
-- `BENCH {"200": n, ...}`: the count of each status.
local paths, nonce, n = {}, nil, 0
counts = {}  -- global: done() reads it from each thread
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_id", #threads)
end

function init(args)
    for line in io.lines(args[1]) do
        table.insert(paths, line)
    end
    if args[2] ~= nil and args[2] ~= "" then
        nonce = args[2]
    end
end

function request()
    n = n + 1
    local path = paths[(n - 1) % #paths + 1]
    if nonce then
        path = path .. "?bench=" .. nonce .. "-" .. thread_id .. "-" .. n
    end
    return wrk.format(nil, path)
end

function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("counts")) do
            total[status] = (total[status] or 0) + count
        end
    end
    local parts = {}
    for status, count in pairs(total) do
        table.insert(parts, string.format('"%d": %d', status, count))
    end
    io.write("BENCH {" .. table.concat(parts, ", ") .. "}\n")
end
