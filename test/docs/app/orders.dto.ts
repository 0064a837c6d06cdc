export interface OrderDto {
  readonly id: string;
}

export interface ShippedEvent {
  readonly orderId: string;
}
