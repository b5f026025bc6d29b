"""A call's media: RTP packets and streams, pcap for load tests, the pipecat transport over RTP."""
