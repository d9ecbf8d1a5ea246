import Storage

/// The onboarding workflow, in order. Every step is idempotent, so a retry or a restart runs it again safely.
public enum OnboardingStep: String, Sendable, Codable, CaseIterable {
    /// The tenant row, its quota scope and the step records exist (done by the create request itself).
    case domainCreated = "domain_created"
    /// The realm named after the slug, with its signing key and default clients.
    case realmProvisioned = "realm_provisioned"
    /// The first domain admin, bound to domain-admin on the tenant, with a one-time activation invitation.
    case adminCreated = "admin_created"
    /// VRFs and VLANs allocated from the pools, counted against the tenant's network quota.
    case networkAllocated = "network_allocated"
    /// The tenant's quota limits set.
    case quotasSet = "quotas_set"
    /// The tenant is operational.
    case ready
}

/// The recorded state of one step.
public struct OnboardingRecord: Sendable, Equatable, Codable, RowDecodable {
    public enum State: String, Sendable, Codable {
        case pending, running, done, failed
    }

    public var step: OnboardingStep
    public var position: Int
    public var state: State
    public var startedAt: Int64?
    public var finishedAt: Int64?
    public var attempts: Int
    public var error: String?

    public init(row: Row) throws {
        guard let step = OnboardingStep(rawValue: try row.string("step")), let state = State(rawValue: try row.string("state")) else {
            throw StoreError.decoding("onboarding step")
        }
        self.step = step
        self.state = state
        position = Int(try row.int64("position"))
        startedAt = try row.optionalInt64("started_at")
        finishedAt = try row.optionalInt64("finished_at")
        attempts = Int(try row.int64("attempts"))
        error = try row.optionalString("error")
    }
}
