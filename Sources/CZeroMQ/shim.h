// The one include of libzmq for Herald: every libzmq call lives in the ZeroMQ module.
#include <zmq.h>
