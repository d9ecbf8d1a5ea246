import HTTPTypes
import NIOCore

/// Turns an error into the controller's error response (status, headers, `{"error": …}` body with the
/// request id). The composition root passes the one mapping it uses for every route, so the gateway's
/// refusals of credentials and sizes read exactly like the REST API's.
public typealias ErrorRenderer = @Sendable (_ error: any Error, _ path: String, _ requestID: String)
    -> (status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer)

extension HTTPField.Name {
    /// `X-Request-Id`: honoured when the client sends one, generated otherwise, echoed on every answer.
    public static let requestID = HTTPField.Name("X-Request-Id")!
}
