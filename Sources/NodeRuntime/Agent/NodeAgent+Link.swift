import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import ServiceLifecycle

/// The link to the controller: startup reconciliation, registration, heartbeats with the observed state.
extension NodeAgent {
    /// Startup reconciliation (orphaned runners and staged copies), then the link loop until shutdown.
    public func runLink() async {
        let orphans = records.reapOrphans(logger: logger)
        if orphans > 0 { events.append(kind: "runner.orphans-stopped", fields: ["count": String(orphans)]) }
        if configuration.cleanupOnDeactivate { await evict(trigger: "startup", keepBytes: configuration.stagingKeepRecentBytes) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.work.run() }
            group.addTask { await self.telemetryLoop() }
            group.addTask { await self.alertLoop() }
            group.addTask { await self.pulseLoop() }
            await linkLoop()
            // Runners stop gracefully (SIGTERM, then SIGKILL) while their supervisors still run;
            // then the owned work ends, and with it every loop.
            await stopAll()
            work.finish()
            group.cancelAll()
        }
    }

    func linkLoop() async {
        var backoff = 0.5
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if current == nil { try await register() }
                do {
                    try await heartbeat()
                } catch AgentError.controller(let status, _) where status == 401 {
                    // The controller no longer knows this session (it marked the node lost): join again, with a new node id.
                    logger.warning("session unknown to the controller; registering again (the node id changes)")
                    session.withLockedValue { $0 = nil }
                    continue
                }
                backoff = 0.5
                try await Task.sleep(for: .milliseconds(Int64((current?.heartbeatSeconds ?? 5) * 1000)))
            } catch is CancellationError {
                break
            } catch {
                logger.warning("cannot reach or join the controller; retrying with backoff", metadata: ["error": .string("\(error)"), "backoffSeconds": .stringConvertible(backoff)])
                try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
                // Capped low: a node whose link comes back rejoins within seconds, with no operator step.
                backoff = min(backoff * 2, 5)
            }
        }
    }

    /// The liveness stream: while a session lasts, a pulse every `pulseSeconds` on one long request,
    /// so the controller notices a dead link within about a second (nothing else would: a cut link
    /// sends no FIN). A new session, or an answer (401 when the controller gave the session up),
    /// opens a new stream.
    func pulseLoop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            guard let session = current, let seconds = session.pulseSeconds else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let token = session.sessionToken
            let interval = Duration.milliseconds(Int64(seconds * 1000))
            logger.debug("liveness stream opening", metadata: ["session": .string(session.sessionId)])
            do {
                let status = try await link.pulse(token: token, every: interval) { [self] in
                    current?.sessionToken == token && !Task.isShuttingDownGracefully
                }
                logger.debug("liveness stream ended", metadata: ["status": .stringConvertible(status)])
                if status == 401 { logger.info("the controller ended this session's liveness stream; the next heartbeat joins again") }
            } catch is CancellationError {
                return
            } catch {
                logger.debug("liveness stream broke; opening another", metadata: ["error": .string("\(error)")])
            }
            try? await Task.sleep(for: interval)
        }
    }

    func register() async throws {
        // A credential is the controller's, whichever of its replicas it was saved against.
        let replicas = Set(configuration.controllerURLs)
        let saved = credentials.load().flatMap { saved in
            replicas.isDisjoint(with: saved.controllerURL.split(separator: ",").map(String.init)) ? nil : saved
        }
        guard saved != nil || configuration.joinToken != nil else {
            throw AgentError.io("no join token and no saved node credential: pass --join-token")
        }
        let root = configuration.inventoryRoot
        let inventory = try await workers.run { InventoryCollector.collect(root: root) }
        let request = RegistrationRequest(joinToken: saved == nil ? configuration.joinToken : nil, nodeCredential: saved?.nodeCredential,
                                          hostname: configuration.hostname, nodeName: configuration.nodeName, agentVersion: Self.version,
                                          nodeAPIURL: "http://\(configuration.listen)", inventory: inventory, pulses: true)
        let answer: RegistrationResponse
        do {
            answer = try await link.register(request)
        } catch AgentError.controller(let status, let body) where status == 401 && saved != nil && configuration.joinToken != nil {
            // The saved credential is no longer known (a restored controller): join again with the token.
            logger.warning("saved node credential refused; joining with the join token", metadata: ["answer": .string(body)])
            var retry = request
            retry.nodeCredential = nil
            retry.joinToken = configuration.joinToken
            answer = try await link.register(retry)
        }
        if let credential = answer.nodeCredential {
            do {
                try credentials.save(.init(agentId: answer.agentId, nodeCredential: credential, controllerURL: configuration.controllerURL))
            } catch {
                logger.error("cannot save the node credential: after a restart this node needs a new join token", metadata: ["error": .string("\(error)")])
            }
        }
        session.withLockedValue { $0 = answer }
        events.append(kind: "agent.joined", fields: ["agent": answer.agentId, "session": answer.sessionId])
        logger.info("joined the controller", metadata: ["agent": .string(answer.agentId), "session": .string(answer.sessionId)])
    }

    func heartbeat() async throws {
        guard let token = current?.sessionToken else { return }
        let answer = try await link.heartbeat(token: token, observed: await observed())
        await reconcile(answer.desired)
        for command in answer.commands { await handle(command) }
    }

    /// What the agent reports: its instances, staging copies and storage.
    func observed() async -> ObservedState {
        let instances = supervisors.withLockedValue { Array($0.values) }.map(\.status).sorted { $0.instanceId < $1.instanceId }
        return ObservedState(instances: instances, staging: stager.statuses, storage: try? await storage(), links: await linkNeighbors())
    }
}
