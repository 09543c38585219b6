/** After close() the process exits on its own (test/close.shared.ts), for meta commands, proxy mode and 3 connections. */
import { itExitsAfterClose } from '../../../test/close.shared';

itExitsAfterClose('meta');
