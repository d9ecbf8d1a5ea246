import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOSSL
import Testing

/// A certificate authority made by the test (openssl), and a server certificate it signed for the
/// controller's management address, to run the controller and the agents' link over TLS.
struct TestCA: Sendable {
    let caCertificate: String
    let serverCertificate: String
    let serverKey: String

    /// The CA a world already made in `directory`.
    init(existing directory: String) {
        caCertificate = directory + "/ca.pem"
        serverCertificate = directory + "/server.pem"
        serverKey = directory + "/server.key"
    }

    init(directory: String, serverIP: String) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        caCertificate = directory + "/ca.pem"
        serverCertificate = directory + "/server.pem"
        serverKey = directory + "/server.key"
        let script = """
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=metalplane test CA' -keyout ca.key -out ca.pem 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj '/CN=\(serverIP)' -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=IP:\(serverIP)\\nextendedKeyUsage=serverAuth\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem 2>/dev/null
            """
        let made = try await Fleet.shell(["bash", "-c", script])
        try #require(made.status == 0, "openssl: \(made.output)")
    }

    private static let clients = NIOLockedValueBox<[String: HTTPClient]>([:])

    /// A client that trusts this CA (names unchecked: the test reaches the controller through a Unix
    /// socket). One per CA for the test process's life.
    func client() throws -> HTTPClient {
        if let known = Self.clients.withLockedValue({ $0[caCertificate] }) { return known }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caCertificate)
        tls.certificateVerification = .noHostnameVerification
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        Self.clients.withLockedValue { $0[caCertificate] = client }
        return client
    }
}
