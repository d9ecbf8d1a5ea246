import NIOCore
import Foundation
import Redfish
import Testing
import TestPeers

@Suite(.serialized) struct RedfishClientTests {
    @Test func inventoryPowerBootAndVirtualMediaAgainstARealRedfishEmulator() async throws {
        let bmc = try await BMCEmulator()
        defer { bmc.stop() }
        let client = RedfishClient(timeout: .seconds(5), attempts: 2)
        let endpoint = try RedfishEndpoint(systemURL: bmc.systemURL, username: "admin", password: "password")

        let inventory = try await client.inventory(endpoint)
        #expect(inventory.uuid == bmc.systemID)
        #expect(inventory.name == "gpu-node-1")
        #expect(inventory.powerState == "Off")
        #expect(inventory.nics.map(\.mac) == ["00:5c:52:31:3a:9c"])
        #expect(inventory.missing.contains("Processors"), "the fake driver has no processors; the node agent fills them")

        try await client.reset(endpoint, .on)
        var state = ""
        for _ in 0..<60 {
            state = try await client.powerState(endpoint)
            if state == "On" { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(state == "On")

        try await client.setBootOverride(endpoint, .cd, once: true)
        let boot = try await client.bootOverride(endpoint)
        #expect(boot.target == "Cd")
        #expect(boot.enabled != nil)

        try await client.insertMedia(endpoint, imageURL: bmc.imageURL)
        let media = try await client.virtualMedia(endpoint)
        #expect(media.inserted && media.image == bmc.imageURL)
        try await client.ejectMedia(endpoint)
        #expect(try await client.virtualMedia(endpoint).inserted == false)
        await client.shutdown()
    }

    @Test func unreachableBMCsAndBadAddressesGiveTypedErrors() async throws {
        let client = RedfishClient(timeout: .seconds(1), attempts: 2)
        #expect(throws: RedfishError.self) { try RedfishEndpoint(systemURL: "ftp://x/redfish", username: "", password: "") }
        let nowhere = try RedfishEndpoint(systemURL: "http://127.0.0.1:\(try freePort())/redfish/v1/Systems/1", username: "a", password: "b")
        await #expect {
            try await client.inventory(nowhere)
        } throws: { error in
            if case RedfishError.unreachable = error { true } else { false }
        }
        await client.shutdown()
    }
}
