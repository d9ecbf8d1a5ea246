import Scheduler

/// Where each project's models are served now: the ready instances with their engine endpoints.
/// The router reads a snapshot of it per request, so a request costs no store read.
public struct RouteTable: Sendable, Equatable {
    public struct Replica: Sendable, Equatable, Hashable {
        public var instanceID: String
        public var endpoint: String
        /// The model the engine loaded: after a swap it may differ from the name clients call.
        public var modelID: String
        /// The engine's credential, sent as `Authorization: Bearer …`.
        public var apiKey: String
        /// `endpoint` parsed once when the table is built, not per request (nil: not plain http://host:port).
        let upstream: UpstreamAddress?

        init(instanceID: String, endpoint: String, modelID: String, apiKey: String) {
            self.instanceID = instanceID
            self.endpoint = endpoint
            self.modelID = modelID
            self.apiKey = apiKey
            self.upstream = UpstreamAddress(endpoint: endpoint)
        }
    }

    /// project id → model id → replicas.
    public var projects: [String: [String: [Replica]]] = [:]

    public init() {}

    /// The table of the instances the Scheduler reports routable, by the name clients call them.
    public init(_ instances: [RoutableInstance]) {
        for instance in instances {
            let replica = Replica(instanceID: instance.instanceID, endpoint: instance.endpoint, modelID: instance.modelID, apiKey: instance.apiKey)
            projects[instance.projectID, default: [:]][instance.servedModel, default: []].append(replica)
        }
    }

    public func replicas(project: String, model: String) -> [Replica] { projects[project]?[model] ?? [] }

    public func models(project: String) -> [String] { (projects[project]?.keys).map { $0.sorted() } ?? [] }
}
