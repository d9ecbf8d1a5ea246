import Storage

/// A pool of numeric network identifiers: VRF route-distinguisher IDs, or VLAN IDs on one fabric.
public struct Pool: Sendable, Equatable, Codable, RowDecodable {
    /// What a pool hands out.
    public enum Kind: String, Sendable, Codable {
        case vrf
        case vlan
    }

    public var id: String
    public var kind: Kind
    public var name: String
    /// The VLAN group / fabric a VLAN pool belongs to (VRF pools: `default`).
    public var fabric: String
    /// First and last ID of the range, inclusive.
    public var rangeStart: Int64
    public var rangeEnd: Int64
    /// IDs inside the range that are never handed out (e.g. VLAN 1, 1002–1005).
    public var reserved: [Int64]
    public var createdAt: Int64
    public var version: Int64
    /// Allocated IDs, filled when utilisation is asked for.
    public var allocated: Int?

    /// How many IDs the pool can hand out.
    public var size: Int {
        let span = Int(rangeEnd - rangeStart + 1)
        return span - reserved.filter { $0 >= rangeStart && $0 <= rangeEnd }.count
    }

    public init(row: Row) throws {
        id = try row.string("id")
        guard let kind = Kind(rawValue: try row.string("kind")) else { throw StoreError.decoding("pool kind") }
        self.kind = kind
        name = try row.string("name")
        fabric = try row.string("fabric")
        rangeStart = try row.int64("range_start")
        rangeEnd = try row.int64("range_end")
        reserved = try row.string("reserved").split(separator: ",").compactMap { Int64($0) }
        createdAt = try row.int64("created_at")
        version = try row.int64("version")
    }

    enum CodingKeys: String, CodingKey { case id, kind, name, fabric, rangeStart, rangeEnd, reserved, createdAt, version, allocated, size }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        try container.encode(fabric, forKey: .fabric)
        try container.encode(rangeStart, forKey: .rangeStart)
        try container.encode(rangeEnd, forKey: .rangeEnd)
        try container.encode(reserved, forKey: .reserved)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(version, forKey: .version)
        try container.encode(size, forKey: .size)
        try container.encodeIfPresent(allocated, forKey: .allocated)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        kind = try container.decode(Kind.self, forKey: .kind)
        name = try container.decode(String.self, forKey: .name)
        fabric = try container.decode(String.self, forKey: .fabric)
        rangeStart = try container.decode(Int64.self, forKey: .rangeStart)
        rangeEnd = try container.decode(Int64.self, forKey: .rangeEnd)
        reserved = try container.decode([Int64].self, forKey: .reserved)
        createdAt = try container.decode(Int64.self, forKey: .createdAt)
        version = try container.decode(Int64.self, forKey: .version)
        allocated = try container.decodeIfPresent(Int.self, forKey: .allocated)
    }
}

/// A pool to create, from the API or the controller's configuration.
public struct PoolDefinition: Sendable, Equatable, Decodable {
    public var name: String
    public var fabric: String?
    public var rangeStart: Int64
    public var rangeEnd: Int64
    public var reserved: [Int64]?

    public init(name: String, fabric: String? = nil, rangeStart: Int64, rangeEnd: Int64, reserved: [Int64]? = nil) {
        self.name = name
        self.fabric = fabric
        self.rangeStart = rangeStart
        self.rangeEnd = rangeEnd
        self.reserved = reserved
    }

    /// The pools a fresh controller has, so onboarding works out of the box.
    public static let defaultVRF = PoolDefinition(name: "default", rangeStart: 1, rangeEnd: 4000)
    /// VLANs 2–4094 less the IDs switches keep for themselves (1 and 1002–1005).
    public static let defaultVLAN = PoolDefinition(name: "default", fabric: "default", rangeStart: 2, rangeEnd: 4094,
                                                   reserved: [1002, 1003, 1004, 1005])
}

/// One allocated VRF with the VLANs inside it.
public struct TenantVRF: Sendable, Equatable, Codable {
    public var id: String
    public var poolId: String
    public var number: Int64
    public var tenantId: String
    public var vlans: [TenantVLAN]
}

/// One allocated VLAN.
public struct TenantVLAN: Sendable, Equatable, Codable {
    public var id: String
    public var poolId: String
    public var vlanId: Int64
    public var vrfId: String
}
