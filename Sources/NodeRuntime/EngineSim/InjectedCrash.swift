import Foundation
import ServiceLifecycle

/// The simulator's injected crash (`--crash-after-seconds`): a service beside the HTTP server that
/// ends the process with status 3 after the delay, unless the simulator is shut down first.
public struct InjectedCrash: Service {
    let after: Duration

    public init(after: Duration) { self.after = after }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: after) }
        FileHandle.standardError.write(Data("engine-sim: injected crash after \(after)\n".utf8))
        Foundation.exit(3)
    }
}
