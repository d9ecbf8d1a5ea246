import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NodeContract

/// The `linux` driver: the Linux switch agent (`metalplane switch`) over HTTP on the switch's
/// management address, with the switch's bearer token, as a vendor's switch API is reached.
public struct LinuxSwitchDriver: FabricDriver {
    let endpoint: String
    let token: String
    let client: HTTPClient
    let timeout: TimeAmount

    public init(endpoint: String, token: String, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(5)) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.token = token
        self.client = client
        self.timeout = timeout
    }

    public func observe() async throws -> SwitchObservation {
        try await exchange(.GET, "/v1/state", body: nil)
    }

    public func apply(_ config: SwitchConfig) async throws -> SwitchObservation {
        try await exchange(.PUT, "/v1/config", body: try JSONEncoder().encode(config))
    }

    private func exchange(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> SwitchObservation {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw LinuxSwitchDriverError.unreachable("\(endpoint): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw LinuxSwitchDriverError.refused(status: Int(response.status.code), String(decoding: bytes.readableBytesView.prefix(500), as: UTF8.self))
        }
        return try JSONDecoder().decode(SwitchObservation.self, from: Data(bytes.readableBytesView))
    }
}

public enum LinuxSwitchDriverError: Error, CustomStringConvertible {
    case unreachable(String)
    case refused(status: Int, String)

    public var description: String {
        switch self {
        case .unreachable(let why): "switch unreachable: \(why)"
        case .refused(let status, let body): "switch answered \(status): \(body)"
        }
    }
}
