// The one include of libusb for Herald: every libusb call lives behind HeraldIO's USB wrapper.
#include <libusb-1.0/libusb.h>
