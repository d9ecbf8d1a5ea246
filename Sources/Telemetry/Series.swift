import Foundation

/// What a series is: a metric name and its labels (`node`, `model`, `instance`, `project`, `tenant`).
public struct SeriesKey: Hashable, Sendable {
    public let metric: String
    public let labels: [String: String]
    /// The labels as stored: JSON with sorted keys, so equal labels are equal text. Made once, by hand: a
    /// fleet's batches make thousands of keys a second, and JSONEncoder was the ingest path's largest cost.
    let encodedLabels: String

    public init(metric: String, labels: [String: String]) {
        self.metric = metric
        self.labels = labels
        encodedLabels = "{" + labels.sorted { $0.key < $1.key }.map { "\(Self.quoted($0.key)):\(Self.quoted($0.value))" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// Who a series belongs to, stored beside it so queries filter and scope by tenant without parsing labels.
public struct SeriesOwner: Sendable, Equatable {
    public var nodeID: String?
    public var modelID: String?
    public var instanceID: String?
    public var projectID: String?
    public var tenantID: String?

    public init(nodeID: String?, modelID: String? = nil, instanceID: String? = nil, projectID: String? = nil, tenantID: String? = nil) {
        self.nodeID = nodeID
        self.modelID = modelID
        self.instanceID = instanceID
        self.projectID = projectID
        self.tenantID = tenantID
    }

    /// The labels an operator joins on.
    var labels: [String: String] {
        var labels: [String: String] = [:]
        labels["node"] = nodeID
        labels["model"] = modelID
        labels["instance"] = instanceID
        labels["project"] = projectID
        labels["tenant"] = tenantID
        return labels
    }
}

/// One value of one series at one time (milliseconds since the epoch).
public struct Sample: Sendable, Equatable {
    public var key: SeriesKey
    public var owner: SeriesOwner
    public var at: Int64
    public var value: Double

    public init(metric: String, owner: SeriesOwner, at: Int64, value: Double) {
        key = SeriesKey(metric: metric, labels: owner.labels)
        self.owner = owner
        self.at = at
        self.value = value
    }
}

/// Which series a query reads: any combination of node, model, project and tenant (nil: any).
public struct SeriesFilter: Sendable, Equatable, Codable {
    public var nodeID: String?
    public var modelID: String?
    public var projectID: String?
    public var tenantID: String?

    public init(nodeID: String? = nil, modelID: String? = nil, projectID: String? = nil, tenantID: String? = nil) {
        self.nodeID = nodeID
        self.modelID = modelID
        self.projectID = projectID
        self.tenantID = tenantID
    }

    var columns: [(String, String)] {
        [("node_id", nodeID), ("model_id", modelID), ("project_id", projectID), ("tenant_id", tenantID)].compactMap { column, value in value.map { (column, $0) } }
    }
}

/// A series over a range: its labels and one point per step where it had a sample.
public struct SeriesResult: Sendable, Equatable, Encodable {
    public struct Point: Sendable, Equatable, Encodable {
        public var at: Int64
        public var value: Double
    }

    public var metric: String
    public var labels: [String: String]
    public var points: [Point]
}
