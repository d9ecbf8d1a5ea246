import Core
import Foundation
import IAM
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Provisioner
import ServiceLifecycle
import Storage

/// Programs the fabric as a reconciler: every `reconcileSeconds` (and at once when an allocation
/// or a release asks), each switch's desired state is computed from the allocations, its actual
/// state read back, and any difference applied. A difference nobody asked for (a hand edit, a
/// switch that rebooted and forgot) is drift: repaired, logged, audited and raised as an alert.
/// A driver error is kept on the switch's status, and its nodes show `failed` as their network
/// condition until a pass succeeds.
public final class FabricReconciler: Service, NodeIsolation {
    let fabric: FabricService
    let agents: AgentService
    let audit: AuditLog
    let clock: WallClock
    let logger: Logger
    /// One pass at a time; callers that ask during a pass wait for the next one.
    private let serial = SerialGate()
    /// What each switch was last successfully given (so a difference from it is drift, not a change).
    private let applied = NIOLockedValueBox<[String: SwitchConfig]>([:])
    /// The LLDP report last checked per node (a report is checked only when it changes).
    private let reported = NIOLockedValueBox<[String: [LinkNeighbor]]>([:])
    /// Each switch's port reports as stored (so a pass writes only the ports that changed).
    private let storedPorts = NIOLockedValueBox<[String: [String: PortState]]>([:])
    /// Switches whose last pass failed (one alert per failure streak).
    private let failing = NIOLockedValueBox<Set<String>>([])

    public init(fabric: FabricService, agents: AgentService, audit: AuditLog, clock: WallClock, logger: Logger) {
        self.fabric = fabric
        self.agents = agents
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    /// Set by `kick()`: the loop runs its next pass within 50 ms instead of at the interval.
    private let kicked = NIOLockedValueBox(false)

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await reconcile()
            let due = ContinuousClock.now + .milliseconds(Int(fabric.settings.reconcileSeconds * 1000))
            while ContinuousClock.now < due, !kicked.withLockedValue({ flag in defer { flag = false }; return flag }), !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Asks the loop for a pass soon, without waiting for it (a switch added, its cabling changed).
    /// A changed cabling plan also re-checks every node's next LLDP report against it.
    public func kick() {
        reported.withLockedValue { $0 = [:] }
        kicked.withLockedValue { $0 = true }
    }

    /// Result of one pass over one switch.
    public struct Outcome: Sendable, Equatable {
        public var switchName: String
        public var changedPorts: Int
        public var drift: [String]
        public var error: String?
    }

    /// One pass over every switch, or over the switches cabled to `nodes` (waits for a pass in progress first).
    @discardableResult
    public func reconcile(nodes: [String]? = nil) async -> [Outcome] {
        await serial.run { await self.pass(nodes: nodes) }
    }

    /// Checks a node's LLDP report against the cabling plan when it changed; a mismatch is alerted
    /// on the node (its agent's alerts) and shown on the switch's port.
    public func checkCabling(nodeID: String, agentID: String, links: [LinkNeighbor]?) async {
        guard let links, reported.withLockedValue({ $0[nodeID] }) != links else { return }
        do {
            let mismatches = try await fabric.recordNeighbors(nodeID: nodeID, links)
            reported.withLockedValue { $0[nodeID] = links }
            guard !mismatches.isEmpty else { return }
            let now = clock.nowMillis()
            logger.warning("cabling mismatch", metadata: ["node": .string(nodeID), "mismatch": .string(mismatches.joined(separator: "; "))])
            try await agents.record(alerts: [AlertReport(correlationId: "cabling-\(nodeID)-\(mismatches.joined().hashValue)-\(now)", severity: .warning,
                                                         kind: "fabric_cabling_mismatch", message: mismatches.joined(separator: "; "), value: Double(mismatches.count),
                                                         threshold: 0, at: now)], from: agentID)
        } catch {
            logger.error("cabling check failed", metadata: ["node": .string(nodeID), "error": .string("\(error)")])
        }
    }

    /// Takes the node's port out of its tenant's segments and confirms with the switch.
    public func isolate(nodeID: String) async throws -> String {
        let outcomes = await reconcile(nodes: [nodeID])
        let ports = try await fabric.database.read { connection in
            try connection.query("SELECT s.name, c.port FROM fabric_cabling c JOIN fabric_switches s ON s.id = c.switch_id WHERE c.node_id = ?", [.text(nodeID)])
                .map { (switchName: try $0.string("name"), port: try $0.string("port")) }
        }
        guard !ports.isEmpty else { return "no switch port is cabled to the node; nothing to isolate" }
        var lines: [String] = []
        for (switchName, port) in ports {
            if let failure = outcomes.first(where: { $0.switchName == switchName })?.error {
                throw FabricError.notIsolated(node: nodeID, reason: "switch \(switchName): \(failure)")
            }
            let view = try await fabric.view(switchName)
            guard let state = view.ports.first(where: { $0.port == port }), state.inSync, state.observedAddresses?.isEmpty ?? false else {
                throw FabricError.notIsolated(node: nodeID, reason: "switch \(switchName) does not yet show port \(port) out of the tenant's segments")
            }
            lines.append("port \(port) of switch \(switchName) in VLAN \(state.observedVLANs?.map(String.init).joined(separator: ",") ?? "?") (out of the tenant's segments)")
        }
        return lines.joined(separator: "; ")
    }

    private func pass(nodes: [String]?) async -> [Outcome] {
        let members: [NodeMembership]
        var records: [FabricSwitch]
        do {
            members = try await fabric.nodes.memberships()
            try await fabric.syncAddresses(members)
            records = try await fabric.switchRecords()
            if let nodes {
                let wanted = try await fabric.switchIDs(cabledTo: nodes)
                records = records.filter { wanted.contains($0.id) }
            }
        } catch {
            logger.error("fabric pass could not read the allocations", metadata: ["error": .string("\(error)")])
            return []
        }
        let byID = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let addresses = (try? await fabric.addresses()) ?? [:]
        // Switches are programmed side by side: one slow or unreachable switch does not hold up the others.
        return await withTaskGroup(of: Outcome.self) { group in
            for record in records { group.addTask { await self.pass(record, members: byID, addresses: addresses) } }
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.switchName < $1.switchName }
        }
    }

    private func pass(_ record: FabricSwitch, members: [String: NodeMembership], addresses: [String: [SegmentAddress]]) async -> Outcome {
        let now = clock.nowMillis()
        var outcome = Outcome(switchName: record.name, changedPorts: 0, drift: [], error: nil)
        do {
            let desired = fabric.desired(cabling: try await fabric.cabling(of: record.id), members: members, addresses: addresses)
            let driver = try await fabric.driver(for: record)
            var observed = try await driver.observe()
            let previous = applied.withLockedValue { $0[record.id] }
            if observed.config != desired || !observed.foreign.isEmpty {
                let before = Dictionary(observed.config.ports.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
                outcome.changedPorts = desired.ports.filter { before[$0.name] != $0 }.count
                // The switch no longer holds what it was last given: someone or something changed it.
                if let previous, observed.config != previous || !observed.foreign.isEmpty {
                    outcome.drift = Self.describe(observed: observed, expected: previous)
                }
                observed = try await driver.apply(desired)
                guard observed.config == desired, observed.foreign.isEmpty else {
                    throw FabricError.driverFailed(switchName: record.name, reason: "after programming, the switch still differs: "
                                                   + Self.describe(observed: observed, expected: desired).prefix(5).joined(separator: "; "))
                }
                await recordChange(record, outcome: outcome, at: now)
            }
            applied.withLockedValue { $0[record.id] = desired }
            if failing.withLockedValue({ $0.remove(record.id) }) != nil {
                logger.notice("fabric switch programmed again", metadata: ["switch": .string(record.name)])
            }
            try await store(record.id, observed: observed, inSync: true, error: nil, drift: outcome.drift, at: now)
        } catch {
            let reason = (error as? FabricError)?.message ?? "\(error)"
            outcome.error = reason
            try? await store(record.id, observed: nil, inSync: false, error: reason, drift: [], at: now)
            if failing.withLockedValue({ $0.insert(record.id).inserted }) {
                logger.error("fabric switch not programmed; its nodes' network is failed until a pass succeeds", metadata: ["switch": .string(record.name), "error": .string(reason)])
                try? await agents.record(alerts: [AlertReport(correlationId: "fabric-failed-\(record.id)-\(now)", severity: .critical, kind: "fabric_driver_failed",
                                                              message: "switch \(record.name) could not be programmed: \(reason)", value: 1, threshold: 0, at: now)], from: nil)
            }
        }
        return outcome
    }

    private func recordChange(_ record: FabricSwitch, outcome: Outcome, at now: Int64) async {
        let drifted = !outcome.drift.isEmpty
        if drifted {
            logger.warning("fabric drift repaired", metadata: ["switch": .string(record.name), "drift": .string(outcome.drift.joined(separator: "; "))])
            try? await agents.record(alerts: [AlertReport(correlationId: "fabric-drift-\(record.id)-\(now)", severity: .warning, kind: "fabric_drift",
                                                          message: "switch \(record.name) had drifted and was repaired: " + outcome.drift.prefix(5).joined(separator: "; "),
                                                          value: Double(outcome.drift.count), threshold: 0, at: now)], from: nil)
        } else {
            logger.info("fabric switch programmed", metadata: ["switch": .string(record.name), "ports": .stringConvertible(outcome.changedPorts)])
        }
        try? await audit.append(AuditRecord(id: Identifier.make("aud", at: now), at: now, actorKind: "system", actorId: "fabric-reconciler", actorName: "fabric reconciler",
                                            realmId: nil, tenantId: nil, action: drifted ? "fabric.drift.repair" : "fabric.switch.program",
                                            target: "switch:\(record.name)", result: "success", status: 200, requestId: "-",
                                            source: drifted ? outcome.drift.prefix(3).joined(separator: "; ") : "\(outcome.changedPorts) ports changed"))
    }

    private func store(_ switchID: String, observed: SwitchObservation?, inSync: Bool, error: String?, drift: [String], at now: Int64) async throws {
        let cached = storedPorts.withLockedValue { $0[switchID] }
        let previous: [String: PortState]
        if let cached { previous = cached } else { previous = try await fabric.portStates(of: switchID) }
        let states = observed.map(PortState.split)
        try await fabric.storePass(switchID, states: states, previous: previous, inSync: inSync, error: error, drift: drift, repaired: !drift.isEmpty, at: now)
        storedPorts.withLockedValue { $0[switchID] = states ?? previous }
    }

    /// Lines saying how the switch differs from what it should hold.
    static func describe(observed: SwitchObservation, expected: SwitchConfig) -> [String] {
        var lines = observed.foreign
        let seen = Dictionary(observed.config.ports.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        let wanted = Dictionary(expected.ports.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        for name in Set(seen.keys).union(wanted.keys).sorted() where seen[name] != wanted[name] {
            let show = { (port: PortConfig?) in port.map { "VLANs \($0.vlans) addresses \($0.addresses.map(\.address))" } ?? "absent" }
            lines.append("port \(name) is \(show(seen[name])), expected \(show(wanted[name]))")
        }
        return lines
    }
}

/// Runs one body at a time, in arrival order.
final class SerialGate: Sendable {
    private let state = NIOLockedValueBox<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { gate -> Bool in
                if gate.busy { gate.waiting.append(continuation); return false }
                gate.busy = true
                return true
            }
            if now { continuation.resume() }
        }
        let result = await body()
        let next = state.withLockedValue { gate -> CheckedContinuation<Void, Never>? in
            if gate.waiting.isEmpty { gate.busy = false; return nil }
            return gate.waiting.removeFirst()
        }
        next?.resume()
        return result
    }
}
