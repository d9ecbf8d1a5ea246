import IAM
import NetworkPools
import Quota
import Foundation
import Logging
import Portal
import Storage
import Tenancy
import Testing

@Suite struct OnboardingResumeTests {
    @Test func aControllerStoppedMidOnboardingFinishesItAtTheNextStartWithoutDoubleAllocating() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-resume-\(UUID().uuidString)").path
        var settings = ControllerConfiguration()
        settings.dataDirectory = directory
        settings.passwordHashCost = 4
        settings.spareSigningKeys = 0
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let environment = ["METALPLANE_BOOTSTRAP_PASSWORD": "admin-password"]
        let first = try await ControllerRuntime.open(settings, environment: environment, logger: logger)
        let created = try await first.services.tenants.create(try JSONDecoder().decode(NewTenant.self, from: Data(acmeBody.utf8)))
        let id = created.tenant.id
        // Rewind to what a crash during the realm step leaves: that step running, the later ones pending,
        // and the network and quota not yet there.
        try await first.services.database.write { connection in
            try connection.execute("UPDATE tenants SET status = 'onboarding' WHERE id = ?", [.text(id)])
            try connection.execute("UPDATE onboarding_steps SET state = 'running' WHERE tenant_id = ? AND step = 'realm_provisioned'", [.text(id)])
            try connection.execute("UPDATE onboarding_steps SET state = 'pending' WHERE tenant_id = ? AND position > 1", [.text(id)])
            try connection.execute("DELETE FROM vlans WHERE tenant_id = ?", [.text(id)])
            try connection.execute("DELETE FROM vrfs WHERE tenant_id = ?", [.text(id)])
            try connection.execute("DELETE FROM quota_usage WHERE scope = ?", [.text("tenant:\(id)")])
            try connection.execute("DELETE FROM quota_limits WHERE scope = ?", [.text("tenant:\(id)")])
        }
        await first.close()

        let second = try await ControllerRuntime.open(settings, environment: environment, logger: logger)
        let tenant = try await second.services.tenants.tenant("acme")
        #expect(tenant.status == .ready)
        let steps = try await second.services.tenants.onboardingSteps(id)
        #expect(steps.allSatisfy { $0.state == .done })
        #expect(steps.first { $0.step == .realmProvisioned }?.attempts == 2)
        let network = try await second.services.tenants.network(of: id)
        #expect(network.count == 1 && network[0].vlans.count == 2)
        #expect(second.services.identity.allRealms().filter { $0.name == "acme" }.count == 1)
        let quota = try await second.services.tenants.quota(of: "tenant:\(id)")
        #expect(quota["vlans"]?.used == 2 && quota["accelerators/nvidia/H100"]?.limit == 16)
        await second.close()
    }
}
