import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ControllerClient

/// A Redfish stand-in for the node benchmark only: it answers `GET /redfish/v1/Systems/{id}` and
/// `ComputerSystem.Reset` for any id, so 10,000 nodes can be inspected and released without 10,000
/// emulated BMCs. It is not a BMC emulator: the tests use sushy-tools for that. Its answers say so.
struct RedfishStandIn {
    let port: Int

    /// Serves on `port` until the process exits.
    static func start(port: Int) async throws -> RedfishStandIn {
        let router = Router()
        router.get("/redfish/v1/Systems/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? "?"
            let body = #"{"Id": "\#(id)", "Name": "bench Redfish stand-in (not a BMC)", "Manufacturer": "metalplane bench stand-in", "#
                + #""Model": "stand-in", "UUID": "00000000-0000-0000-0000-\#(String(repeating: "0", count: max(0, 12 - id.count)))\#(id.prefix(12))", "#
                + #""PowerState": "On", "Status": {"Health": "OK"}, "MemorySummary": {"TotalSystemMemoryGiB": 2048}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.post("/redfish/v1/Systems/:id/Actions/ComputerSystem.Reset") { _, _ in Response(status: .noContent) }
        var logger = Logger(label: "redfish-stand-in")
        logger.logLevel = .error
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        Task { try await app.runService() }
        for _ in 0..<50 {
            if let reply = try? await HTTPCall.send(.GET, "http://127.0.0.1:\(port)/redfish/v1/Systems/probe", timeout: .seconds(1)), reply.status == 200 {
                return RedfishStandIn(port: port)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError.io("the Redfish stand-in did not start on port \(port)")
    }

    func systemURL(_ id: Int) -> String { "http://127.0.0.1:\(port)/redfish/v1/Systems/\(id)" }
}
