import Core
import IAM
import Logging
import ServiceLifecycle

/// Syncs every enabled import-mode directory whose interval has passed (`syncIntervalSeconds`, an hour by
/// default), one after another; one leader runs it when there are several replicas. A directory that
/// cannot be reached is retried at its next interval and changes nothing meanwhile.
struct DirectorySyncLoop: Service {
    let identity: IdentityService
    let clock: WallClock
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await turn()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    func turn() async {
        guard let due = try? await identity.directoriesDue(at: clock.nowMillis()) else { return }
        for (realm, directory) in due where !Task.isShuttingDownGracefully {
            do {
                try await identity.syncDirectory(directory.id, in: realm)
            } catch {
                logger.error("directory sync failed; the next interval tries again", metadata: ["realm": .string(realm.name), "directory": .string(directory.name),
                                                                                               "error": .string("\(error)")])
            }
        }
    }
}
