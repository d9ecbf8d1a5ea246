import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waits for a child process to end without relying on Foundation alone: with many children
/// ending at once, `Process` was seen to miss an exit, and `waitUntilExit` then blocked a test (and
/// with it a thread of the cooperative pool) for good. A child that has ended but was not reaped is
/// a zombie, and Linux reports its exit status in `/proc/<pid>/stat`.
public enum ProcessExit {
    /// The exit status (the exit code, or 128 + the signal), or nil if `process` still runs after `timeout` seconds.
    public static func wait(_ process: Process, timeout: Double = 60) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = status(process) { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The same, blocking the calling thread (for `stop()` and `deinit`); keep `timeout` short.
    @discardableResult
    public static func waitBlocking(_ process: Process, timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = status(process) { return status }
            usleep(20_000)
        }
        return nil
    }

    /// The status if the child has ended, by Foundation's account or by `/proc`.
    public static func status(_ process: Process) -> Int32? {
        if !process.isRunning { return process.terminationStatus }
        let pid = process.processIdentifier
        guard pid > 0 else { return nil }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
            // Gone entirely: reaped, but Foundation has not caught up yet.
            return process.isRunning ? nil : process.terminationStatus
        }
        return exitStatus(stat: stat)
    }

    /// The exit status in a `/proc/<pid>/stat` line of a zombie; nil while the process runs.
    public static func exitStatus(stat: String) -> Int32? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": field 3 is the state, field 52 the exit status as waitpid reports it. The
        // last field ends the line: split on the newline too, or it reads "0\n" and never parses.
        let fields = stat[stat.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.first == "Z", fields.count > 49, let raw = Int32(fields[49]) else { return nil }
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }
}
