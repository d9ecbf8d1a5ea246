import HTTPTypes
import Core
import Hummingbird
import IAM
import Logging
import NIOCore

/// The request context every controller route sees: the request id, the caller's address,
/// and the authenticated principal once the route's access check has run.
public struct PortalContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id echoed in `X-Request-Id`, every log line and every error body.
    public var requestID = ""
    /// The caller's IP address, for audit and throttling.
    public let sourceAddress: String
    /// The authenticated caller, set by the route registrar.
    public var principal: Principal?
    /// Largest accepted body.
    public var maxBodyBytes = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceAddress = source.channel.remoteAddress?.ipAddress ?? "local"
    }
}
