import IAM
import Logging
import Provisioner
import ServiceLifecycle
import Storage

/// Keeps this replica's IAM caches and agent sessions in step with the other replicas on the same PostgreSQL store:
/// applies their signals as they arrive, and starts the caches over after every reconnect.
struct ReplicaCacheListener: Service {
    let store: PostgreSQLDatabase
    let identity: IdentityService
    let agents: AgentService
    let logger: Logger

    func run() async throws {
        let (identity, agents, logger) = (self.identity, self.agents, self.logger)
        await cancelWhenGracefulShutdown {
            await store.listenForSignals(logger: logger, onResync: {
                agents.resyncSessions()
                do { try await identity.resyncReplicaCaches() } catch {
                    logger.warning("cache resync failed; caches fill again from the store", metadata: ["error": .string("\(error)")])
                }
            }, onSignal: { topic, key in
                if topic == AgentService.sessionTopic { agents.applySessionSignal(agentID: key) } else { await identity.applyReplicaSignal(topic: topic, key: key) }
            })
        }
    }
}
