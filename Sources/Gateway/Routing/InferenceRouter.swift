import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Scheduler

/// The OpenAI-compatible router's shared state: the route table (project → model → ready
/// replicas), the outstanding-request counts that choose among replicas (`ReplicaChooser` is the seam
/// for KV/prefix-aware scoring), the usage ledger and the traces. The requests themselves are served
/// in the HTTP pipeline by `RouterChannelHandler` and `RouterExchange`.
public final class InferenceRouter: Sendable {
    let instances: InstanceService
    let settings: RouterSettings
    let usage: UsageLedger
    let traces: TraceStore
    /// The controller's one error mapping, for refusals answered in the pipeline.
    let renderError: ErrorRenderer
    let logger: Logger
    /// Keep-alive connections to engines, one pool per event loop.
    let pools = UpstreamPools()
    /// The store lookups a request makes off its event loop (an API key or a route not cached yet),
    /// owned by the gateway's service: nothing started for a request outlives the controller.
    let work = OwnedWork()
    private let table = NIOLockedValueBox(RouteTable())
    private let outstanding = NIOLockedValueBox<[String: Int]>([:])
    /// The exchanges in flight on each instance, so a lost node's requests can be failed at once.
    private let inFlightExchanges = NIOLockedValueBox<[String: [ObjectIdentifier: InFlight]]>([:])
    private let rotation = NIOLockedValueBox(0)

    init(instances: InstanceService, settings: RouterSettings, usage: UsageLedger, traces: TraceStore, renderError: @escaping ErrorRenderer,
         logger: Logger) {
        self.instances = instances
        self.settings = settings
        self.usage = usage
        self.traces = traces
        self.renderError = renderError
        self.logger = logger
    }

    /// Reloads the route table from the store (a background loop does this continually).
    public func refresh() async {
        if let routable = try? await instances.routableInstances() {
            let fresh = RouteTable(routable)
            table.withLockedValue { $0 = fresh }
        }
        if let tracing = try? await settings.tracingEnabled() { traces.isEnabled = tracing }
    }

    /// Models the caller's project can reach now.
    public func models(project: String) -> [String] { table.withLockedValue { $0.models(project: project) } }

    /// The ready replicas serving `model` to `project`.
    func replicas(project: String, model: String) -> [RouteTable.Replica] {
        table.withLockedValue { $0.replicas(project: project, model: model) }
    }

    /// The body with `model` set to the engine's own model (a served name, or a hot-swapped replica
    /// that serves the old name): the value is spliced in place where the request scan found it
    /// written without escapes, and the body is re-encoded only otherwise.
    static func renamed(_ payload: ByteBuffer, valueAt range: Range<Int>?, to model: String) -> ByteBuffer {
        if let range, range.upperBound < payload.readableBytes,
           let before = payload.getSlice(at: payload.readerIndex, length: range.lowerBound),
           let after = payload.getSlice(at: payload.readerIndex + range.upperBound, length: payload.readableBytes - range.upperBound) {
            var spliced = ByteBuffer()
            spliced.reserveCapacity(payload.readableBytes + model.utf8.count)
            spliced.writeImmutableBuffer(before)
            spliced.writeString(model)
            spliced.writeImmutableBuffer(after)
            return spliced
        }
        guard var object = (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView))) as? [String: Any] else { return payload }
        object["model"] = model
        return (try? JSONSerialization.data(withJSONObject: object)).map { ByteBuffer(bytes: $0) } ?? payload
    }

    /// The same, for a body not scanned yet.
    static func renamed(_ payload: ByteBuffer, to model: String) -> ByteBuffer {
        renamed(payload, valueAt: OpenAIRequestScan(payload)?.modelValue, to: model)
    }

    /// Requests in flight on an instance (a swap waits for the old one's to drain).
    func inFlight(_ instanceID: String) -> Int { outstanding.withLockedValue { $0[instanceID] ?? 0 } }

    func choose(from replicas: [RouteTable.Replica]) -> RouteTable.Replica? {
        let loads = outstanding.withLockedValue { counts in replicas.map { counts[$0.instanceID] ?? 0 } }
        let turn = rotation.withLockedValue { value -> Int in value &+= 1; return value }
        return ReplicaChooser.leastOutstanding(replicas, loads: loads, turn: turn)
    }

    /// An exchange in flight, reachable from any thread through its event loop.
    struct InFlight: Sendable {
        let exchange: NIOLoopBound<RouterExchange>
        let loop: any EventLoop
    }

    func begin(_ replica: RouteTable.Replica, exchange: RouterExchange, on loop: any EventLoop) {
        outstanding.withLockedValue { $0[replica.instanceID, default: 0] += 1 }
        let entry = InFlight(exchange: NIOLoopBound(exchange, eventLoop: loop), loop: loop)
        inFlightExchanges.withLockedValue { $0[replica.instanceID, default: [:]][ObjectIdentifier(exchange)] = entry }
    }

    func end(_ replica: RouteTable.Replica, exchange: RouterExchange) {
        outstanding.withLockedValue { $0[replica.instanceID, default: 1] -= 1 }
        inFlightExchanges.withLockedValue { table in
            table[replica.instanceID]?[ObjectIdentifier(exchange)] = nil
            if table[replica.instanceID]?.isEmpty == true { table[replica.instanceID] = nil }
        }
    }

    /// These instances' node was lost (its link died: no FIN will ever come): the route table drops
    /// them now, and every request in flight on them ends with the retryable `instance_lost` error.
    public func instancesLost(_ instanceIDs: Set<String>) async {
        guard !instanceIDs.isEmpty else { return }
        await refresh()
        let doomed = inFlightExchanges.withLockedValue { table in instanceIDs.flatMap { table[$0].map { Array($0.values) } ?? [] } }
        for entry in doomed {
            entry.loop.execute { entry.exchange.value.replicaLost() }
        }
        if !doomed.isEmpty {
            logger.warning("node lost: requests in flight failed with a retryable error", metadata: ["requests": .stringConvertible(doomed.count),
                                                                                                   "instances": .string(instanceIDs.sorted().joined(separator: ","))])
        }
    }
}
