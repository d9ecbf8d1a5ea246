import Core
import Dispatch
import Foundation

/// A benchmark's helper process (the harness, wrk) run to its end for its standard output.
enum ChildOutput {
    /// Starts `process`, reads its standard output to the end on a dispatch thread (the read blocks,
    /// and the cooperative pool has only as many threads as cores), then polls for its exit:
    /// Foundation's `waitUntilExit` was seen never to return after the harness had ended.
    /// Returns the output and the exit status.
    static func run(_ process: Process, mergingStandardError: Bool = false) async throws -> (output: String, status: Int32) {
        let pipe = Pipe()
        process.standardOutput = pipe
        if mergingStandardError { process.standardError = pipe }
        try process.run()
        let data: Data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }
        }
        // By Foundation's account or by /proc: Foundation was seen to miss the harness's exit (a zombie it never reaped).
        while ProcessExit.status(process) == nil { try await Task.sleep(for: .milliseconds(50)) }
        return (String(decoding: data, as: UTF8.self), ProcessExit.status(process) ?? -1)
    }

    /// Ends `process`: SIGTERM, then SIGKILL if it is still running after `grace` seconds. The
    /// anchors (Rust binaries) were seen to outlive SIGTERM when started from this process, and
    /// `waitUntilExit` then never returned.
    static func stop(_ process: Process, grace: Double = 2) {
        // By /proc, not `isRunning`: Foundation was seen to report a live controller as ended, which left it
        // holding its port while the next configuration's bench measured it.
        let pid = process.processIdentifier
        guard pid > 0, alive(pid) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while alive(pid) && Date() < deadline { usleep(20_000) }
        if alive(pid) { kill(pid, SIGKILL) }
        let hardDeadline = Date().addingTimeInterval(5)
        while alive(pid) && Date() < hardDeadline { usleep(20_000) }
    }

    /// Whether `pid` runs (exists and is not a zombie), by /proc alone.
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }
}
