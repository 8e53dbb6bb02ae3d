/**
 * The WebSocket transport of the peer protocol, on Netty 4.1: one {@link
 * io.replikon.protocol.Message} per binary frame at {@link io.replikon.protocol.Message#PATH},
 * subprotocol {@link io.replikon.protocol.Message#SUBPROTOCOL}.
 *
 * <p>The public API is {@link io.replikon.transport.Transports} (the factory), the interfaces
 * {@link io.replikon.transport.Connection}, {@link io.replikon.transport.ConnectionHandler},
 * {@link io.replikon.transport.PeerServer}, {@link io.replikon.transport.PeerClient} and
 * {@link io.replikon.transport.Dialer}, and the configuration records
 * {@link io.replikon.transport.ServerConfig} and {@link io.replikon.transport.ClientConfig}.
 * Everything else is package-private: the Netty pipelines, the frame handler that turns frames
 * into handler calls and bad input into an error and a close, the reconnecting dialer and its
 * backoff.
 *
 * <p>Threads: each connection lives on one I/O thread, where its handler is called; handlers must
 * not block. Sending is allowed from any thread.
 */
package io.replikon.transport;
