package io.ferry.api.channel;

/** A channel could not be opened or broke; the message names the peer and the cause. */
public class ChannelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ChannelException(String message, Throwable cause) {
        super(message, cause);
    }

    public ChannelException(String message) {
        super(message);
    }
}
