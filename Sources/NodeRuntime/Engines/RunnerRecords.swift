import Foundation
import Logging
import NIOConcurrencyHelpers

/// The PIDs of the runners this agent started, kept on disk, so the next session can stop runners
/// orphaned by a crashed one (they would hold the accelerators and the ports).
final class RunnerRecords: Sendable {
    let path: String
    private let pids = NIOLockedValueBox<[String: Int32]>([:])

    init(stateDirectory: String) { path = stateDirectory + "/runners.json" }

    func add(_ instanceID: String, pid: Int32) {
        let snapshot = pids.withLockedValue { $0[instanceID] = pid; return $0 }
        save(snapshot)
    }

    func remove(_ instanceID: String) {
        let snapshot = pids.withLockedValue { $0[instanceID] = nil; return $0 }
        save(snapshot)
    }

    /// Kills every recorded runner still alive from a previous session; returns how many.
    func reapOrphans(logger: Logger) -> Int {
        guard let data = FileManager.default.contents(atPath: path),
              let recorded = try? JSONDecoder().decode([String: Int32].self, from: data) else { return 0 }
        var reaped = 0
        for (instance, pid) in recorded where kill(pid, 0) == 0 {
            // Only a process started from an engine command line (not a reused PID of something else).
            let commandLine = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            guard commandLine.contains("--port") else { continue }
            kill(pid, SIGKILL)
            reaped += 1
            logger.warning("stopped a runner orphaned by the previous session", metadata: ["instance": .string(instance), "pid": .stringConvertible(pid)])
        }
        save([:])
        return reaped
    }

    private func save(_ snapshot: [String: Int32]) {
        try? JSONEncoder().encode(snapshot).write(to: URL(fileURLWithPath: path))
    }
}
