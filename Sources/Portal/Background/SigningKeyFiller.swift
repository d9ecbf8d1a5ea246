import IAM
import Logging
import ServiceLifecycle

/// Gives realms created while no spare key was ready (a burst of onboardings) their signing key, on the
/// key pool's own thread, a few at a time. Every replica runs it; the store lets only the first key of a
/// realm in.
struct SigningKeyFiller: Service {
    let identity: IdentityService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Keep going while there is a backlog; rest when every realm has its key.
                while try await identity.fillMissingSigningKeys() > 0, !Task.isShuttingDownGracefully {}
            } catch {
                logger.error("realm signing keys not made; the next turn tries again", metadata: ["error": .string("\(error)")])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
