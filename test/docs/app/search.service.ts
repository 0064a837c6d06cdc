import { Injectable } from '@nestjs/common';

@Injectable()
export class SearchService {
  async reindex(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    void id;
    void options;
  }
}
