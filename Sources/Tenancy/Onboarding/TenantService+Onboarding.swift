import NIOConcurrencyHelpers
import Core
import Foundation
import IAM
import Logging
import NetworkPools
import Quota
import Storage

extension TenantService {
    /// What a create or retry answers: the tenant, its steps, and the admin's activation invitation when one was made.
    public struct OnboardingResult: Sendable, Encodable {
        public var tenant: Tenant
        public var steps: [OnboardingRecord]
        public var adminInvitation: IssuedInvitation?
    }

    /// Creates a tenant and runs its onboarding to the end (or to the failing step).
    public func create(_ request: NewTenant) async throws -> OnboardingResult {
        try validate(request)
        let now = clock.nowMillis()
        let id = Identifier.make("ten", at: now)
        let body = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        try await database.write { connection in
            guard try connection.scalarInt("SELECT COUNT(*) FROM tenants WHERE slug = ?", [.text(request.slug)]) == 0 else {
                throw TenancyError.duplicate(what: "tenant", value: request.slug)
            }
            try connection.execute(
                "INSERT INTO tenants (id, name, slug, status, request, created_at, updated_at, version) VALUES (?, ?, ?, '\(Tenant.Status.onboarding.rawValue)', ?, ?, ?, 1)",
                [.text(id), .text(request.name), .text(request.slug), .text(body), .integer(now), .integer(now)])
            for (position, step) in OnboardingStep.allCases.enumerated() {
                let done = step == .domainCreated
                try connection.execute(
                    "INSERT INTO onboarding_steps (tenant_id, step, position, state, started_at, finished_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.text(id), .text(step.rawValue), .int(position), .text(done ? "done" : "pending"),
                     done ? .integer(now) : .null, done ? .integer(now) : .null, .int(done ? 1 : 0)])
            }
            try QuotaLedger.register("tenant:\(id)", parent: nil, label: "tenant \(request.slug)", on: connection)
        }
        return try await runOnboarding(id)
    }

    /// Resumes a failed (or interrupted) onboarding from its first unfinished step.
    public func retryOnboarding(_ reference: String) async throws -> OnboardingResult {
        let tenant = try await tenant(reference)
        guard tenant.status == .failed || tenant.status == .onboarding else {
            throw TenancyError.invalidState(tenant: tenant.slug, status: tenant.status.rawValue, action: "retry onboarding")
        }
        return try await runOnboarding(tenant.id)
    }

    /// Restarts onboarding of every tenant a previous process left `onboarding`; called at start.
    public func resumeInterruptedOnboarding() async {
        let stuck = (try? await database.read { try $0.query(Tenant.self, "SELECT * FROM tenants WHERE status = '\(Tenant.Status.onboarding.rawValue)'") }) ?? []
        for tenant in stuck {
            logger.notice("resuming interrupted onboarding", metadata: ["tenant": .string(tenant.slug)])
            _ = try? await runOnboarding(tenant.id)
        }
    }

    /// The recorded steps of a tenant.
    public func onboardingSteps(_ tenantID: String) async throws -> [OnboardingRecord] {
        try await database.read { try $0.query(OnboardingRecord.self, "SELECT * FROM onboarding_steps WHERE tenant_id = ? ORDER BY position", [.text(tenantID)]) }
    }

    /// Runs the unfinished steps in order; a failure is recorded on the step and the tenant, and ends the run.
    func runOnboarding(_ tenantID: String) async throws -> OnboardingResult {
        guard running.withLockedValue({ $0.insert(tenantID).inserted }) else { throw TenancyError.onboardingInProgress(tenantID) }
        defer { running.withLockedValue { _ = $0.remove(tenantID) } }
        _ = try await setStatus(tenantID, .onboarding)
        let request = try await storedRequest(tenantID)
        var invitation: IssuedInvitation?
        for record in try await onboardingSteps(tenantID) where record.state != .done {
            try await mark(tenantID, record.step, .running)
            do {
                if let issued = try await perform(record.step, tenantID: tenantID, request: request) { invitation = issued }
                try await mark(tenantID, record.step, .done)
            } catch {
                let reason = (error as? any DomainError)?.message ?? String(describing: error)
                try await mark(tenantID, record.step, .failed, error: reason)
                _ = try await setStatus(tenantID, .failed, failedStep: record.step.rawValue, error: reason)
                logger.warning("onboarding step failed", metadata: ["tenant": .string(request.slug), "step": .string(record.step.rawValue), "error": .string(reason)])
                break
            }
        }
        return OnboardingResult(tenant: try await tenant(tenantID), steps: try await onboardingSteps(tenantID), adminInvitation: invitation)
    }

    private func perform(_ step: OnboardingStep, tenantID: String, request: NewTenant) async throws -> IssuedInvitation? {
        switch step {
        case .domainCreated:
            return nil
        case .realmProvisioned:
            if let existing = try? identity.realm(named: request.slug), existing.tenantID != tenantID {
                throw TenancyError.duplicate(what: "realm", value: request.slug)
            }
            let realm = try await identity.createRealm(name: request.slug, displayName: request.name, tenantID: tenantID)
            try await identity.ensureClient(PlatformBootstrap.cliClientID, isPublic: true, in: realm)
            try await identity.ensureClient("portal", isPublic: true, in: realm)
            try await identity.ensureClient("automation", isPublic: false, in: realm)
            try await database.write { try $0.execute("UPDATE tenants SET realm_id = ? WHERE id = ?", [.text(realm.id), .text(tenantID)]) }
            return nil
        case .adminCreated:
            let realm = try identity.realm(named: request.slug)
            let existing = try await identity.user(named: request.admin.username, in: realm)
            let admin: User
            if let existing {
                admin = existing
            } else {
                admin = try await identity.createUser(NewUser(username: request.admin.username, email: request.admin.email, password: nil, enabled: false), in: realm)
            }
            let bindings = try await identity.bindings(in: realm, principalID: admin.id, page: PageRequest(limit: 50))
            if !bindings.items.contains(where: { $0.role == .domainAdmin }) {
                _ = try await identity.bind(.domainAdmin, over: .tenant(tenantID), to: .user, id: admin.id, in: realm)
            }
            try await database.write { try $0.execute("UPDATE tenants SET admin_user_id = ? WHERE id = ?", [.text(admin.id), .text(tenantID)]) }
            guard !admin.enabled else { return nil }
            return try await issueInvitation(tenantID: tenantID, user: admin, role: .domainAdmin, scope: .tenant(tenantID), createdBy: "onboarding")
        case .networkAllocated:
            let now = clock.nowMillis()
            try await database.write { connection in
                // Idempotent: a tenant that already holds its allocation is left as it is.
                guard try PoolAllocator.vrfCount(of: tenantID, on: connection) == 0 else { return }
                let vrfs = try PoolAllocator.allocateVRFs(tenantID: tenantID, count: request.vrfCount, poolName: request.network?.vrfPool ?? "default", at: now, on: connection)
                for vrf in vrfs {
                    _ = try PoolAllocator.allocateVLANs(tenantID: tenantID, vrfID: vrf.id, count: request.vlansPerVrf,
                                                        poolName: request.network?.vlanPool ?? "default", at: now, on: connection)
                }
                try QuotaLedger.consume(["vrfs": Int64(request.vrfCount), "vlans": Int64(request.vrfCount * request.vlansPerVrf)],
                                        at: "tenant:\(tenantID)", on: connection)
            }
            return nil
        case .quotasSet:
            var limits = try (request.quota ?? QuotaResources()).flattened()
            limits["vrfs"] = limits["vrfs"] ?? Int64(request.vrfCount)
            limits["vlans"] = limits["vlans"] ?? Int64(request.vrfCount * request.vlansPerVrf)
            let finalLimits = limits
            try await database.write { try QuotaLedger.setLimits(finalLimits, for: "tenant:\(tenantID)", on: $0) }
            return nil
        case .ready:
            try await database.write { try $0.execute("UPDATE tenants SET status = '\(Tenant.Status.ready.rawValue)', failed_step = NULL, error = NULL WHERE id = ?", [.text(tenantID)]) }
            return nil
        }
    }

    private func mark(_ tenantID: String, _ step: OnboardingStep, _ state: OnboardingRecord.State, error: String? = nil) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            switch state {
            case .running:
                try connection.execute("UPDATE onboarding_steps SET state = '\(OnboardingRecord.State.running.rawValue)', started_at = ?, finished_at = NULL, error = NULL, attempts = attempts + 1 WHERE tenant_id = ? AND step = ?",
                                       [.integer(now), .text(tenantID), .text(step.rawValue)])
            default:
                try connection.execute("UPDATE onboarding_steps SET state = ?, finished_at = ?, error = ? WHERE tenant_id = ? AND step = ?",
                                       [.text(state.rawValue), .integer(now), .text(error), .text(tenantID), .text(step.rawValue)])
            }
        }
    }

    private func storedRequest(_ tenantID: String) async throws -> NewTenant {
        let text = try await database.read { try $0.query("SELECT request FROM tenants WHERE id = ?", [.text(tenantID)]).first?.string("request") }
        guard let text else { throw TenancyError.tenantNotFound(tenantID) }
        return try JSONDecoder().decode(NewTenant.self, from: Data(text.utf8))
    }

    private func validate(_ request: NewTenant) throws {
        guard (1...100).contains(request.name.unicodeScalars.count) else { throw TenancyError.invalidField(field: "name", reason: "must be 1–100 characters") }
        let slugOK = request.slug.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
        guard (2...63).contains(request.slug.count), slugOK, request.slug.first != "-", request.slug.last != "-" else {
            throw TenancyError.invalidField(field: "slug", reason: "must be 2–63 lowercase letters, digits or '-', not starting or ending with '-'")
        }
        guard !Self.reservedSlugs.contains(request.slug) else { throw TenancyError.invalidField(field: "slug", reason: "\(request.slug) is reserved") }
        guard Validation.isUsername(request.admin.username) else {
            throw TenancyError.invalidField(field: "admin.username", reason: "must be 1–64 letters, digits, '.', '_', '@' or '-'")
        }
        if let email = request.admin.email, !Validation.isEmail(email) {
            throw TenancyError.invalidField(field: "admin.email", reason: "is not an email address")
        }
        guard (0...64).contains(request.vrfCount) else { throw TenancyError.invalidField(field: "network.vrfs", reason: "must be 0–64") }
        guard (0...512).contains(request.vlansPerVrf) else { throw TenancyError.invalidField(field: "network.vlansPerVrf", reason: "must be 0–512") }
        let quota = try (request.quota ?? QuotaResources()).flattened()
        let vlans = Int64(request.vrfCount * request.vlansPerVrf)
        if let limit = quota["vlans"], limit < vlans {
            throw TenancyError.unsatisfiable(field: "quota.vlans", reason: "\(limit) is below the \(vlans) VLANs the network allocation asks for")
        }
        if let limit = quota["vrfs"], limit < Int64(request.vrfCount) {
            throw TenancyError.unsatisfiable(field: "quota.vrfs", reason: "\(limit) is below the \(request.vrfCount) VRFs the network allocation asks for")
        }
    }
}
