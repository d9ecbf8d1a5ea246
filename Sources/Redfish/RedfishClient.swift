import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A Redfish client over AsyncHTTPClient: Basic auth, per-call timeout, retries of transient
/// failures (connection errors and 5xx) with backoff, and certificate verification per BMC.
///
/// It uses process-lifetime connection pools (AsyncHTTPClient's shared client, and one that skips
/// certificate checks for BMCs configured so): a pool that is never deinitialised cannot trap the
/// process when a controller fails half-way through start-up.
public final class RedfishClient: Sendable {
    private let timeout: TimeAmount
    private let attempts: Int

    /// The pool for BMCs whose certificates are not verified (self-signed ones).
    private static let trusting: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        configuration.tlsConfiguration = tls
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A client; `attempts` counts the first try.
    public init(timeout: TimeAmount = .seconds(10), attempts: Int = 3) {
        self.timeout = timeout
        self.attempts = max(attempts, 1)
    }

    /// Nothing to close: the pools live as long as the process.
    public func shutdown() async {}

    /// The system's facts, its NICs, and processors and memory where the BMC exposes them.
    public func inventory(_ endpoint: RedfishEndpoint) async throws -> BMCInventory {
        let system = try await get(endpoint.systemURL, endpoint)
        var inventory = BMCInventory(
            uuid: system["UUID"] as? String, name: system["Name"] as? String, manufacturer: system["Manufacturer"] as? String,
            model: system["Model"] as? String, serial: system["SerialNumber"] as? String, powerState: system["PowerState"] as? String,
            health: (system["Status"] as? [String: Any])?["Health"] as? String,
            memoryGiB: ((system["MemorySummary"] as? [String: Any])?["TotalSystemMemoryGiB"] as? NSNumber)?.doubleValue)
        for member in try await members(of: system, "EthernetInterfaces", endpoint, inventory: &inventory) {
            inventory.nics.append(BMCInventory.NIC(
                id: member["Id"] as? String ?? "?", mac: member["MACAddress"] as? String, speedMbps: member["SpeedMbps"] as? Int,
                ipv4: (member["IPv4Addresses"] as? [[String: Any]] ?? []).compactMap { $0["Address"] as? String }))
        }
        for member in try await members(of: system, "Processors", endpoint, inventory: &inventory) {
            inventory.processors.append(BMCInventory.Processor(
                id: member["Id"] as? String ?? "?", model: member["Model"] as? String, manufacturer: member["Manufacturer"] as? String,
                cores: member["TotalCores"] as? Int, threads: member["TotalThreads"] as? Int, type: member["ProcessorType"] as? String))
        }
        if inventory.memoryGiB == nil {
            let modules = try await members(of: system, "Memory", endpoint, inventory: &inventory)
            let mib = modules.compactMap { ($0["CapacityMiB"] as? NSNumber)?.doubleValue }.reduce(0, +)
            if mib > 0 { inventory.memoryGiB = mib / 1024 }
        }
        return inventory
    }

    /// The current power state (`On`, `Off`, …).
    public func powerState(_ endpoint: RedfishEndpoint) async throws -> String {
        guard let state = try await get(endpoint.systemURL, endpoint)["PowerState"] as? String else {
            throw RedfishError.invalidResponse(url: endpoint.systemURL, reason: "no PowerState")
        }
        return state
    }

    /// `ComputerSystem.Reset` with `type`.
    public func reset(_ endpoint: RedfishEndpoint, _ type: ResetType) async throws {
        try await send(.POST, endpoint.systemURL + "/Actions/ComputerSystem.Reset", endpoint, body: ["ResetType": type.rawValue])
    }

    /// Sets the next boot source; `once` makes it apply to one boot only.
    public func setBootOverride(_ endpoint: RedfishEndpoint, _ target: BootTarget, once: Bool = true) async throws {
        try await send(.PATCH, endpoint.systemURL, endpoint,
                       body: ["Boot": ["BootSourceOverrideTarget": target.rawValue, "BootSourceOverrideEnabled": once ? "Once" : "Continuous"]])
    }

    /// The boot override as the BMC reports it: target and enabled mode.
    public func bootOverride(_ endpoint: RedfishEndpoint) async throws -> (target: String?, enabled: String?) {
        let boot = try await get(endpoint.systemURL, endpoint)["Boot"] as? [String: Any]
        return (boot?["BootSourceOverrideTarget"] as? String, boot?["BootSourceOverrideEnabled"] as? String)
    }

    /// Inserts `imageURL` into the system's virtual CD.
    public func insertMedia(_ endpoint: RedfishEndpoint, imageURL: String) async throws {
        try await send(.POST, endpoint.systemURL + "/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia", endpoint,
                       body: ["Image": imageURL, "Inserted": true, "WriteProtected": true])
    }

    /// Ejects the virtual CD.
    public func ejectMedia(_ endpoint: RedfishEndpoint) async throws {
        try await send(.POST, endpoint.systemURL + "/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia", endpoint, body: [:])
    }

    /// The virtual CD's image and whether one is inserted.
    public func virtualMedia(_ endpoint: RedfishEndpoint) async throws -> (image: String?, inserted: Bool) {
        let media = try await get(endpoint.systemURL + "/VirtualMedia/Cd", endpoint)
        return (media["Image"] as? String, media["Inserted"] as? Bool ?? false)
    }

    // MARK: - Transport

    private func members(of system: [String: Any], _ name: String, _ endpoint: RedfishEndpoint,
                         inventory: inout BMCInventory) async throws -> [[String: Any]] {
        guard let link = (system[name] as? [String: Any])?["@odata.id"] as? String else {
            inventory.missing.append(name)
            return []
        }
        do {
            let collection = try await get(endpoint.origin + link, endpoint)
            var items: [[String: Any]] = []
            for member in collection["Members"] as? [[String: Any]] ?? [] {
                if let path = member["@odata.id"] as? String { items.append(try await get(endpoint.origin + path, endpoint)) }
            }
            return items
        } catch RedfishError.rejected(_, let status, _) where status == 404 || status == 501 {
            inventory.missing.append(name)
            return []
        }
    }

    private func get(_ url: String, _ endpoint: RedfishEndpoint) async throws -> [String: Any] {
        let body = try await exchange(.GET, url, endpoint, body: nil)
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw RedfishError.invalidResponse(url: url, reason: "not a JSON object")
        }
        return object
    }

    private func send(_ method: HTTPMethod, _ url: String, _ endpoint: RedfishEndpoint, body: [String: Any]) async throws {
        _ = try await exchange(method, url, endpoint, body: try JSONSerialization.data(withJSONObject: body))
    }

    private func exchange(_ method: HTTPMethod, _ url: String, _ endpoint: RedfishEndpoint, body: Data?) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let credentials = Data("\(endpoint.username):\(endpoint.password)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let client = endpoint.verifyTLS ? HTTPClient.shared : Self.trusting
        var lastError: any Error = RedfishError.unreachable(url: url, reason: "no attempt made")
        for attempt in 0..<attempts {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(200 << attempt)) }
            do {
                let response = try await client.execute(request, timeout: timeout)
                let data = Data((try await response.body.collect(upTo: 8 << 20)).readableBytesView)
                let status = Int(response.status.code)
                if status == 401 || status == 403 { throw RedfishError.unauthorized(url: url) }
                if status >= 500 && status != 501 {
                    lastError = RedfishError.rejected(url: url, status: status, message: Self.message(data))
                    continue
                }
                guard status < 400 else { throw RedfishError.rejected(url: url, status: status, message: Self.message(data)) }
                return data
            } catch let error as RedfishError {
                throw error
            } catch {
                lastError = RedfishError.unreachable(url: url, reason: String(describing: error))
            }
        }
        throw lastError
    }

    private static func message(_ data: Data) -> String {
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        return ((object?["error"] as? [String: Any])?["message"] as? String) ?? String(decoding: data.prefix(200), as: UTF8.self)
    }
}
