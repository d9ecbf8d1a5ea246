import Foundation
import NIOConcurrencyHelpers

/// A supervised child process. Its exit is delivered by Foundation's termination handler (on
/// Foundation's own thread), so waiting for it never blocks a Swift concurrency thread.
final class ChildProcess: Sendable {
    private let process: Process
    private let exit = NIOLockedValueBox<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    let pid: Int32
    /// util-linux's setpriv, which sets the parent-death signal and execs the runner (same PID).
    static let setpriv = "/usr/bin/setpriv"

    /// Starts `executable` with `arguments`, the agent's environment plus `environment`, output to `logPath`.
    init(executable: String, arguments: [String], environment: [String: String], logPath: String) throws {
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: Self.setpriv) {
            // The runner dies with its agent (SIGKILL on the parent's death): a node whose agent is gone
            // serves nothing, so requests in flight fail at once instead of hanging on an unsupervised engine.
            process.executableURL = URL(fileURLWithPath: Self.setpriv)
            process.arguments = ["--pdeathsig", "KILL", "--", executable] + arguments
        } else if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let exit = self.exit
        process.terminationHandler = { finished in
            let status = finished.terminationStatus
            let waiters = exit.withLockedValue { state -> [CheckedContinuation<Int32, Never>] in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
            try? log?.close()
        }
        try process.run()
        pid = process.processIdentifier
    }

    /// Whether it has exited.
    var hasExited: Bool { exit.withLockedValue { $0.status != nil } }

    /// Waits for the exit status.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = exit.withLockedValue { state -> Int32? in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
    @discardableResult
    func stop(grace: Duration = .seconds(5)) async -> Int32 {
        guard !hasExited else { return await wait() }
        kill(pid, SIGTERM)
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                try? await Task.sleep(for: grace)
                if !Task.isCancelled, !self.hasExited { kill(self.pid, SIGKILL) }
                return nil
            }
            group.addTask { await self.wait() }
            var status: Int32 = -1
            for await result in group {
                if let result {
                    status = result
                    group.cancelAll()
                }
            }
            return status
        }
    }

    /// SIGKILL now.
    func kill9() { if !hasExited { kill(pid, SIGKILL) } }
}
